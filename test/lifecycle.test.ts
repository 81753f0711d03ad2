// What a service that produces needs around the producer: outcomes without awaiting,
// bounded shutdown with a report, abortable waits, signal handling, logs and metrics.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ClosedError, Driver, ValidationError, type Logger } from "../dist/src/index.js";
import { startBroker } from "../dist/src/broker/index.js";
import { readPartition, removeDir, tempDir, testBroker } from "./helpers.js";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(partitions = 2, options: Parameters<typeof Driver.connect>[1] = {}) {
  const b = await testBroker();
  cleanups.push(() => removeDir(b.dir), () => b.close());
  const driver = await Driver.connect(b.url, options);
  cleanups.push(() => driver.close());
  await driver.createTopic("t", { partitions, validator: { module: path.join(import.meta.dirname, "fixtures/plugins.mjs"), export: "rejectBad" } });
  return { broker: b, driver, topic: await driver.openTopic("t") };
}

/** A logger that keeps what it is given. */
function captureLogger(): Logger & { lines: { level: string; obj: unknown; msg?: string }[] } {
  const lines: { level: string; obj: unknown; msg?: string }[] = [];
  const at = (level: string) => (obj: unknown, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, error: at("error"), warn: at("warn"), info: at("info") };
}

describe("producer lifecycle", () => {
  it("reports each outcome through onDelivery and the delivery listener, without awaiting", async () => {
    const { topic } = await setup();
    const producer = topic.producer({ name: "cb" });
    const perPush: [string | undefined, number | undefined, number][] = [];
    const listened: [string | undefined, number | undefined, number, number][] = [];
    producer.on("delivery", (err, id, partition, future) => listened.push([err?.name, id, partition, future.index]));
    for (let i = 0; i < 10; i++) {
      producer.push({ seq: i, bad: i === 4 }, undefined, { partition: i % 2, onDelivery: (err, id, partition) => perPush.push([err?.name, id, partition]) });
    }
    await producer.flush();
    expect(perPush).toHaveLength(10);
    expect(perPush.filter(([e]) => e === "ValidationError")).toHaveLength(1);
    expect(perPush.filter(([e]) => e === undefined).map(([, id, p]) => `${p}:${id}`).sort()).toEqual(["0:0", "0:1", "0:2", "0:3", "1:0", "1:1", "1:2", "1:3", "1:4"]);
    expect(listened.map(([, , , index]) => index).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    // Rejected by the validator, before its partition was chosen: partition -1.
    expect(listened.find(([, , , index]) => index === 4)).toEqual(["ValidationError", undefined, -1, 4]);
    await producer.close();
  });

  it("logs failures nobody listens to, once per error kind and then as counts", async () => {
    const logger = captureLogger();
    const { topic } = await setup(1, { logger });
    const producer = topic.producer({ name: "quiet" });
    for (let i = 0; i < 50; i++) producer.push({ seq: i, bad: true }); // fire and forget, no listener
    const heard = producer.push({ seq: 99, bad: true });
    await heard.then(
      () => {},
      () => {},
    ); // awaited: not "unheard"
    await producer.flush();
    const warnings = logger.lines.filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.obj).toMatchObject({ producer: "quiet", topic: "t", code: "VALIDATION" });
    expect(warnings[0]!.msg).toMatch(/nobody listens/);
    await producer.close();
  });

  it("close({ timeoutMs }) returns in time with the broker down and reports what was lost", async () => {
    const data = tempDir();
    cleanups.push(() => removeDir(data));
    const broker = await startBroker({ dir: data, port: 0 });
    const driver = await Driver.connect(broker.url);
    await driver.createTopic("down", { partitions: 1 });
    const producer = (await driver.openTopic("down")).producer({ name: "p" });
    const ok = producer.push({ a: 1 });
    await ok;
    await broker.close();
    const stuck = Array.from({ length: 100 }, (_, i) => producer.push({ i }));
    const t0 = Date.now();
    const report = await driver.close({ timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(report).toMatchObject({ acknowledged: 1, lost: 100, leftInWal: 0, cutShort: true });
    expect(report.producers[0]).toMatchObject({ topic: "down", producer: "p", pushed: 101 });
    expect(stuck.every((f) => f.error instanceof ClosedError)).toBe(true);
    expect(() => producer.push({})).toThrow(ClosedError);
  });

  it("close({ timeoutMs: 0 }) fails the batches queued behind a full in-flight window, and returns", async () => {
    const data = tempDir();
    cleanups.push(() => removeDir(data));
    const broker = await startBroker({ dir: data, port: 0 });
    const driver = await Driver.connect(broker.url);
    await driver.createTopic("window", { partitions: 1 });
    const producer = (await driver.openTopic("window")).producer({ name: "p", maxNumBatches: 1 });
    await producer.push({ a: 1 });
    await broker.close();
    const inFlight = Array.from({ length: 10 }, (_, i) => producer.push({ i }));
    await new Promise((r) => setTimeout(r, 50)); // the first batch leaves and takes the only slot
    const queued = Array.from({ length: 10 }, (_, i) => producer.push({ i: 10 + i }));
    await new Promise((r) => setTimeout(r, 50));
    // Pushed last: its chunk comes out of the pipeline while the producer is closing.
    const last = producer.push({ last: true });
    const report = await driver.close({ timeoutMs: 0 });
    expect(report).toMatchObject({ acknowledged: 1, lost: 21, cutShort: true });
    expect([...inFlight, ...queued, last].every((f) => f.error instanceof ClosedError)).toBe(true);
  });

  it("a process that closes its driver right after creating a producer (timeoutMs 0) exits by itself", async () => {
    const b = await testBroker();
    cleanups.push(() => removeDir(b.dir), () => b.close());
    const driver = await Driver.connect(b.url);
    cleanups.push(() => driver.close());
    await driver.createTopic("early", { partitions: 2 });
    const index = new URL("../dist/src/index.js", import.meta.url).href;
    const script = `
      import { Driver } from ${JSON.stringify(index)};
      const driver = await Driver.connect(${JSON.stringify(b.url)});
      const producer = (await driver.openTopic("early")).producer({ onError: () => {} });
      for (let i = 0; i < 100; i++) producer.push({ i });
      const report = await driver.close({ timeoutMs: 0 });
      console.log(JSON.stringify(report));`;
    // A file, not --eval: worker threads inherit the process's flags, and --input-type breaks them.
    const file = path.join(b.dir, "early-close.mjs");
    fs.writeFileSync(file, script);
    const child = spawn(process.execPath, [file], { stdio: ["ignore", "pipe", "pipe"] });
    cleanups.push(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL")));
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null | "alive">((resolve) => {
      const timer = setTimeout(() => resolve("alive"), 10_000); // a transport session left open keeps it alive
      child.once("exit", (c) => (clearTimeout(timer), resolve(c)));
    });
    expect({ code, err }).toEqual({ code: 0, err: "" });
    const report = JSON.parse(out);
    expect(report.acknowledged + report.lost).toBe(100);
  });

  it("stops waiting when an AbortSignal aborts: flush, ready, wait and connect", async () => {
    const data = tempDir();
    cleanups.push(() => removeDir(data));
    const broker = await startBroker({ dir: data, port: 0 });
    const driver = await Driver.connect(broker.url);
    cleanups.push(() => driver.close({ timeoutMs: 100 }));
    await driver.createTopic("ab", { partitions: 1 });
    const producer = (await driver.openTopic("ab")).producer({ maxPendingEvents: 10 });
    await producer.ready();
    await broker.close();
    const f = producer.push({ a: 1 });
    for (let i = 0; i < 20; i++) producer.push({ i });
    const aborted = (ms: number) => AbortSignal.timeout(ms);
    await expect(producer.flush({ signal: aborted(50) })).rejects.toMatchObject({ name: "TimeoutError" });
    await expect(producer.ready({ signal: aborted(50) })).rejects.toMatchObject({ name: "TimeoutError" });
    const controller = new AbortController();
    const waiting = f.wait(60_000, { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
    const t0 = Date.now();
    await expect(Driver.connect(broker.url, { timeoutMs: 30_000, signal: aborted(100) })).rejects.toMatchObject({ name: "TimeoutError" });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(f.completed).toBe(false); // aborting a wait does not touch the event
  });

  /** Runs the shutdown fixture until it has pushed 5,000 events, sends SIGTERM, and returns its exit code, output and the stored count. */
  async function terminateChild(mode?: string) {
    const b = await testBroker();
    cleanups.push(() => removeDir(b.dir), () => b.close());
    const driver = await Driver.connect(b.url);
    cleanups.push(() => driver.close());
    await driver.createTopic("sig", { partitions: 2 });
    const args = [path.join(import.meta.dirname, "fixtures/shutdown-child.mjs"), b.url, "sig", ...(mode ? [mode] : [])];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    cleanups.push(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL")));
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => /pushed 5000/.test(out) && (clearInterval(timer), resolve()), 20);
      child.once("exit", (code) => (clearInterval(timer), reject(new Error(`child exited ${code}: ${out}${err}`))));
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const t0 = Date.now();
    child.kill("SIGTERM");
    const code = await exited;
    const ms = Date.now() - t0;
    const report = JSON.parse(/^report (.*)$/m.exec(out)![1]!);
    const stored = (await readPartition(b.url, "sig", 0)).length + (await readPartition(b.url, "sig", 1)).length;
    return { code, ms, out, err, report, stored };
  }

  it("shutdownOnSignals: SIGTERM stops intake, flushes, reports and exits 0", async () => {
    const { code, out, report, stored } = await terminateChild();
    expect(code).toBe(0);
    expect(report).toMatchObject({ signal: "SIGTERM", close: { lost: 0, cutShort: false } });
    expect(stored).toBe(report.close.acknowledged);
    expect(stored).toBeGreaterThanOrEqual(5000);
    expect(out).toMatch(/push after shutdown: ClosedError/);
  });

  it("shutdownOnSignals: a beforeClose that never finishes does not hold the shutdown past its deadline", async () => {
    const { code, ms, err, report, stored } = await terminateChild("hang");
    expect(err).toMatch(/beforeClose did not finish by the shutdown deadline/);
    expect(ms).toBeLessThan(5000); // deadline 1 s; without the bound the child never exits
    expect(report.close).toBeDefined();
    expect(code).toBe(report.close.lost > 0 ? 1 : 0);
    expect(stored).toBe(report.close.acknowledged);
  });

  it("exports Prometheus metrics that match what was produced", async () => {
    const registry = new Registry();
    const { topic } = await setup(2, { metrics: { registry } });
    const producer = topic.producer({ name: "m" });
    for (let i = 0; i < 1000; i++) producer.push({ seq: i, bad: i % 100 === 0 }, undefined, { partition: i % 2 });
    await producer.flush();
    const text = await registry.metrics();
    const value = (name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value("tributary_producer_events_pushed_total", 'topic="t",producer="m"')).toBe(1000);
    expect(value("tributary_producer_events_failed_total", 'topic="t",producer="m",error="VALIDATION"')).toBe(10);
    const acked = value("tributary_producer_events_acknowledged_total", 'topic="t",producer="m",partition="0"') + value("tributary_producer_events_acknowledged_total", 'topic="t",producer="m",partition="1"');
    expect(acked).toBe(990);
    expect(value("tributary_producer_events_pending", 'topic="t",producer="m"')).toBe(0);
    expect(value("tributary_producer_batch_events_sum", 'topic="t",producer="m"')).toBe(990);
    const latencyCount = value("tributary_producer_ack_latency_seconds_count", 'topic="t",producer="m",partition="0"');
    expect(latencyCount).toBeGreaterThan(0);
    // Every line is Prometheus text: a comment, or a sample with a numeric value.
    for (const line of text.trim().split("\n").filter((l) => l !== "")) expect(line).toMatch(/^(# (HELP|TYPE) \S+ .+|[a-z_]+(\{[^}]*\})? -?[\d.e+-]+|[a-z_]+(\{[^}]*\})? \+Inf)$/);
    await producer.close();
  });
});

describe("consumer lifecycle", () => {
  it("ends iteration when the driver closes", async () => {
    const { driver, topic } = await setup(1);
    const consumer = topic.consumer({ name: "c" });
    const iteration = (async () => {
      for await (const _ of consumer) void _;
      return "ended";
    })();
    await driver.close();
    await expect(iteration).resolves.toBe("ended");
  });
});

void ValidationError;
