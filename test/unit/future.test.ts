import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EventFuture } from "../../dist/src/core/future.js";
// The settle functions are internal: future.d.ts does not declare them (checked below).
import { rejectFuture, resolveFuture } from "../../dist/src/internal.js";
import * as publicApi from "../../dist/src/index.js";
import { drainMicrotasks, futureAt, track } from "./support.js";

const listeners: ((reason: unknown) => void)[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) process.off("unhandledRejection", l);
  vi.useRealTimers();
});

describe("EventFuture", () => {
  it("starts pending", () => {
    const f = futureAt(7);
    expect(f.index).toBe(7);
    expect(f.completed).toBe(false);
    expect(f.id).toBeUndefined();
    expect(f.error).toBeUndefined();
    expect(f.partition).toBe(-1);
  });

  it("resolves with its ID and partition; await and then() see the ID", async () => {
    const f = futureAt(0);
    const before = track(f.then((id) => id * 2));
    await drainMicrotasks();
    expect(before.state).toBe("pending");
    resolveFuture(f, 41, 3);
    expect(f.completed).toBe(true);
    expect(f.id).toBe(41);
    expect(f.partition).toBe(3);
    expect(f.error).toBeUndefined();
    expect(await f).toBe(41);
    await drainMicrotasks();
    expect(before.value).toBe(82);
  });

  it("rejects with its error; await, then(_, onRejected) and catch() see it", async () => {
    const f = futureAt(0);
    const err = new Error("refused");
    const pending = f.catch((e) => e);
    rejectFuture(f, err, 2);
    expect(f.completed).toBe(true);
    expect(f.error).toBe(err);
    expect(f.id).toBeUndefined();
    expect(f.partition).toBe(2);
    expect(await pending).toBe(err);
    await expect(f).rejects.toBe(err);
    expect(await f.then(() => "no", (e) => e)).toBe(err);
  });

  it("a failure before a partition was chosen leaves the partition at -1", async () => {
    const f = futureAt(0);
    rejectFuture(f, new Error("bad input"));
    expect(f.partition).toBe(-1);
    await expect(f).rejects.toThrow("bad input");
  });

  it("settles once: later resolves and rejects are ignored", async () => {
    const a = futureAt(0);
    resolveFuture(a, 1, 0);
    resolveFuture(a, 2, 1);
    rejectFuture(a, new Error("late"), 1);
    expect([a.id, a.partition, a.error]).toEqual([1, 0, undefined]);
    expect(await a).toBe(1);

    const b = futureAt(1);
    const err = new Error("first");
    rejectFuture(b, err, 4);
    rejectFuture(b, new Error("second"), 5);
    resolveFuture(b, 9, 6);
    expect([b.id, b.partition, b.error]).toEqual([undefined, 4, err]);
    await expect(b).rejects.toBe(err);

    // Also when somebody already waits on it.
    const c = futureAt(2);
    const seen = track(Promise.resolve(c));
    resolveFuture(c, 5, 0);
    rejectFuture(c, new Error("late"));
    await drainMicrotasks();
    expect(seen.state).toBe("resolved");
    expect(seen.value).toBe(5);
  });

  it("every awaiter, before and after settling, gets the same outcome", async () => {
    const f = futureAt(0);
    const early = [f.then((x) => x), f.then((x) => x)];
    resolveFuture(f, 12, 0);
    const late = [f.then((x) => x), Promise.resolve(f)];
    expect(await Promise.all([...early, ...late])).toEqual([12, 12, 12, 12]);
  });

  it("wait(ms) resolves undefined on timeout, the ID when it settles in time, and rejects on failure", async () => {
    vi.useFakeTimers();
    const f = futureAt(0);
    const timedOut = track(f.wait(100));
    await vi.advanceTimersByTimeAsync(99);
    expect(timedOut.state).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(timedOut.state).toBe("resolved");
    expect(timedOut.value).toBeUndefined();
    expect(f.completed).toBe(false); // the timeout does not settle the future

    const inTime = track(f.wait(100));
    await vi.advanceTimersByTimeAsync(50);
    resolveFuture(f, 77, 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(inTime.state).toBe("resolved");
    expect(inTime.value).toBe(77);
    expect(vi.getTimerCount()).toBe(0); // its timer was cleared
    expect(await f.wait(10)).toBe(77); // already settled

    const g = futureAt(1);
    const failing = track(g.wait(100));
    const err = new Error("nope");
    rejectFuture(g, err, 0);
    await vi.advanceTimersByTimeAsync(0);
    expect(failing.state).toBe("rejected");
    expect(failing.error).toBe(err);
    expect(vi.getTimerCount()).toBe(0);
    await expect(g.wait(10)).rejects.toBe(err); // already failed
  });

  it("wait() longer than a timer can hold (Infinity, 2^31 ms) waits for the settlement, it does not time out at once", async () => {
    const f = futureAt(0);
    const forever = track(f.wait(Infinity));
    const long = track(f.wait(2 ** 31));
    const longest = track(f.wait(2 ** 31 - 1));
    await new Promise((r) => setTimeout(r, 20));
    expect([forever.state, long.state, longest.state]).toEqual(["pending", "pending", "pending"]);
    resolveFuture(f, 5, 0);
    await drainMicrotasks();
    expect([forever.value, long.value, longest.value]).toEqual([5, 5, 5]);
  });

  it("a rejected future nobody awaits raises no unhandledRejection, and can still be awaited later", async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    listeners.push(listener);
    process.on("unhandledRejection", listener);
    const futures = Array.from({ length: 3 }, (_, i) => futureAt(i));
    rejectFuture(futures[0]!, new Error("never awaited"), 0);
    // Awaited before failing, then the wait timed out and nobody listens any more.
    void futures[1]!.wait(1).then(() => undefined);
    await new Promise((r) => setTimeout(r, 5));
    rejectFuture(futures[1]!, new Error("after the wait gave up"), 0);
    for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect(unhandled).toEqual([]);
    await expect(futures[0]!).rejects.toThrow("never awaited");
    resolveFuture(futures[2]!, 3, 0);
    await new Promise((r) => setTimeout(r, 5));
    expect(await futures[2]!).toBe(3);
  });

  it("is a thenable, not a Promise", () => {
    const f = futureAt(0);
    expect(f).not.toBeInstanceOf(Promise);
    expect(typeof f.then).toBe("function");
  });
});

describe("EventFuture's published declaration", () => {
  const dts = readFileSync(fileURLToPath(new URL("../../dist/src/core/future.d.ts", import.meta.url)), "utf8");

  it("does not declare the settle functions or anything marked internal", () => {
    expect(dts).not.toMatch(/resolveFuture|rejectFuture/);
    expect(dts.replace(/\/\*\*[\s\S]*?\*\//g, "")).not.toMatch(/resolveImpl|rejectImpl|\bepoch\b|@internal/);
  });

  it("declares exactly the public members of EventFuture (the rest is #private)", () => {
    const body = dts.slice(dts.indexOf("export declare class EventFuture"));
    const code = body.replace(/\/\*\*[\s\S]*?\*\//g, "");
    const members = [...code.matchAll(/^ {4}(?:readonly |get |static |private |protected )*(#?[A-Za-z_$][\w$]*)\s*[<(:;?]/gm)].map((m) => m[1]);
    expect(members.sort()).toEqual(["#private", "catch", "completed", "durable", "error", "id", "index", "partition", "then", "wait"].sort());
    expect(dts).not.toMatch(/export declare function/);
  });

  it("the public entry exports no settle functions", () => {
    expect(Object.keys(publicApi)).not.toContain("resolveFuture");
    expect(Object.keys(publicApi)).not.toContain("rejectFuture");
    const indexDts = readFileSync(fileURLToPath(new URL("../../dist/src/index.d.ts", import.meta.url)), "utf8");
    expect(indexDts).not.toMatch(/resolveFuture|rejectFuture/);
  });
});
