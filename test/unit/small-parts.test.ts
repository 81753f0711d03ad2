// Small pure parts: the uncloneable-metadata check, the log of unheard failures, the
// abort helpers, the default logger.
import { afterEach, describe, expect, it, vi } from "vitest";
import { uncloneableProblem } from "../../dist/src/pipeline/metadata-check.js";
import { FailureLog } from "../../dist/src/producer/failure-log.js";
import { abortable, settleWithin } from "../../dist/src/core/abort.js";
import { loggerProblem } from "../../dist/src/core/logger.js";
import { describe as render, describeType } from "../../dist/src/core/describe.js";

afterEach(() => vi.useRealTimers());

describe("uncloneableProblem", () => {
  it("finds functions and symbols anywhere and names where", () => {
    expect(uncloneableProblem({ a: 1, b: [1, { c: "x" }], d: null, e: new Date(0), f: new Map() })).toBeUndefined();
    expect(uncloneableProblem("text")).toBeUndefined();
    expect(uncloneableProblem(() => 1)).toMatch(/holds a function;/);
    expect(uncloneableProblem({ a: { b: [0, 1, () => 1] } })).toMatch(/holds a function at \.a\.b\[2\]/);
    expect(uncloneableProblem({ "odd key": Symbol("s") })).toMatch(/holds a symbol at \["odd key"\]/);
  });

  it("gives up at a depth beyond 64 instead of recursing without end", () => {
    const deep: Record<string, unknown> = {};
    let at = deep;
    for (let i = 0; i < 200; i++) at = (at.next = {}) as Record<string, unknown>;
    at.f = () => 1;
    expect(uncloneableProblem(deep)).toBeUndefined();
  });
});

describe("FailureLog", () => {
  it("logs the first failure of a code at once, then counts per interval", () => {
    vi.useFakeTimers();
    const lines: { obj: unknown; msg?: string }[] = [];
    const logger = { error() {}, info() {}, warn: (obj: unknown, msg?: string) => void lines.push({ obj, msg }) };
    const log = new FailureLog(logger, "p", "t");
    const err = (code: string) => Object.assign(new Error(`boom ${code}`), { code });
    log.report(err("A"));
    log.report(err("A"));
    log.report(err("A"));
    log.report(err("B"));
    expect(lines).toHaveLength(2);
    expect(lines[0]!.obj).toMatchObject({ producer: "p", topic: "t", code: "A" });
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(3);
    expect(lines[2]!.obj).toMatchObject({ code: "A", count: 2 });
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(3); // nothing new: no line
  });
});

describe("abort helpers", () => {
  it("abortable rejects with the signal's reason and otherwise passes the outcome through", async () => {
    const c = new AbortController();
    const never = new Promise<number>(() => {});
    const p = abortable(never, c.signal);
    c.abort(new Error("stop"));
    await expect(p).rejects.toThrow("stop");
    await expect(abortable(Promise.resolve(3), new AbortController().signal)).resolves.toBe(3);
    await expect(abortable(Promise.resolve(3), AbortSignal.abort())).rejects.toMatchObject({ name: "AbortError" });
  });

  it("settleWithin tells done, timeout or aborted, and never rejects", async () => {
    await expect(settleWithin(Promise.reject(new Error("x")), 1000, undefined)).resolves.toBe("done");
    await expect(settleWithin(new Promise(() => {}), 10, undefined)).resolves.toBe("timeout");
    await expect(settleWithin(new Promise(() => {}), Infinity, AbortSignal.timeout(10))).resolves.toBe("aborted");
  });
});

describe("logger and describe", () => {
  it("accepts pino-like loggers and names what a bad one lacks", () => {
    expect(loggerProblem(console)).toBeUndefined();
    expect(loggerProblem({ error() {}, warn() {} })).toMatch(/no info\(\) method/);
    expect(loggerProblem(null)).toMatch(/must be an object/);
  });

  it("renders values briefly", () => {
    expect(render("a")).toBe('"a"');
    expect(render({ a: 1 })).toBe('{"a":1}');
    expect(render(new Map())).toBe("an object (Map)");
    expect(render(1n)).toBe("1n");
    expect(render("x".repeat(200)).length).toBe(80);
    expect(describeType([1])).toBe("an array");
    expect(describeType("s")).toBe("a string");
  });
});
