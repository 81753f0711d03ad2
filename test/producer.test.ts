import { afterEach, describe, expect, it } from "vitest";
import {
  BatchSize,
  ClosedError,
  DeliveryTimeoutError,
  Driver,
  Ordering,
  ValidationError,
  type EventFuture,
} from "../dist/src/index.js";
import { startBroker } from "../dist/src/broker/index.js";
import { FIXTURES, readPartition, removeDir, tempDir } from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function embedded() {
  const dir = tempDir();
  const driver = await Driver.embedded({ dir });
  cleanups.push(() => removeDir(dir), () => driver.close());
  return driver;
}

/** A broker started apart from the driver, so a test can stop it under a live producer. */
async function separateBroker() {
  const dir = tempDir();
  const broker = await startBroker({ dir, port: 0 });
  const driver = await Driver.connect(broker.url);
  cleanups.push(() => removeDir(dir), () => broker.close(), () => driver.close());
  return { broker, driver };
}

async function readAll(url: string, topic: string, partitions: number) {
  return Promise.all(Array.from({ length: partitions }, (_, p) => readPartition(url, topic, p)));
}

describe("producer", () => {
  it("Strict keeps per-partition push order while chunks finish out of order on 2 threads", async () => {
    const driver = await embedded();
    await driver.createTopic("strict", {
      partitions: 3,
      validator: { module: FIXTURES, export: "CostlyValidator" },
      partitionSelector: "key-hash",
    });
    const topic = await driver.openTopic("strict");
    const producer = topic.producer({ name: "s", threadPool: driver.makeThreadPool(2), ordering: Ordering.Strict, chunkSize: 500 });
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      // Every other chunk costs 100x more per event, so later chunks overtake earlier ones.
      const heavy = Math.floor(i / 500) % 2 === 0;
      producer.push({ seq: i, cost: heavy ? 3000 : 30 }, undefined, { key: `k${i % 17}` });
      if (!producer.hasCapacity) await producer.ready();
    }
    await producer.flush();
    const stats = await producer.stats();
    expect(stats.acknowledged).toBe(N);
    expect(stats.chunksHeldBack).toBeGreaterThan(0); // the sequencer really had to reorder
    const partitions = await readAll(driver.url, "strict", 3);
    expect(partitions.reduce((n, p) => n + p.length, 0)).toBe(N);
    for (const events of partitions) {
      expect(events.map((e) => e.id)).toEqual([...events.keys()]);
      for (let i = 1; i < events.length; i++) expect(events[i]!.metadata.seq).toBeGreaterThan(events[i - 1]!.metadata.seq);
    }
    await producer.close();
  });

  it('makeThreadPool("auto") keeps a cheap pipeline inline and moves a CPU-heavy one to the pool', async () => {
    const driver = await embedded();
    await driver.createTopic("cheap", { partitions: 2 });
    await driver.createTopic("heavy", { partitions: 2, validator: { module: FIXTURES, export: "BusyValidator", config: { us: 40 } } });
    const pool = driver.makeThreadPool("auto");
    for (const [name, expected] of [["cheap", "inline"], ["heavy", "pool"]] as const) {
      const topic = await driver.openTopic(name);
      const producer = topic.producer({ threadPool: pool, chunkSize: 256 });
      expect(pool.placementOf(topic.pipeline)).toBe("probing");
      const futures = Array.from({ length: 256 * 48 }, (_, i) => producer.push({ i }));
      await producer.close();
      expect(pool.placementOf(topic.pipeline)).toBe(expected);
      expect(futures.every((f) => f.completed && !f.error)).toBe(true);
    }
  });

  it("keeps the event loop's timers running while an inline producer is saturated", async () => {
    const driver = await embedded();
    await driver.createTopic("busy", { partitions: 2 });
    const topic = await driver.openTopic("busy");
    const producer = topic.producer({ threadPool: driver.makeThreadPool(0) });
    await producer.ready();
    let last = performance.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 20);
    const start = performance.now();
    for (let i = 0; i < 1_000_000; i++) {
      producer.push({ i });
      if (!producer.hasCapacity) await producer.ready();
    }
    await producer.flush();
    const elapsed = performance.now() - start;
    clearInterval(timer);
    await producer.close();
    // Starved, the timer would not fire at all until the run ends (gap ≈ elapsed).
    expect(maxGap).toBeLessThan(elapsed / 2);
  });

  it("stores what a serializer returned even when it reuses its output buffer", async () => {
    const driver = await embedded();
    await driver.createTopic("reuse", { partitions: 1, serializer: { module: FIXTURES, export: "ReusingSerializer" } });
    const topic = await driver.openTopic("reuse");
    for (const threads of [0, 2]) {
      const producer = topic.producer({ threadPool: driver.makeThreadPool(threads) });
      for (let i = 0; i < 5; i++) producer.push({ i, threads });
      await producer.close();
    }
    const stored = (await readPartition(driver.url, "reuse", 0)).map((e) => e.metadata);
    expect(stored).toEqual([0, 2].flatMap((threads) => [0, 1, 2, 3, 4].map((i) => ({ i, threads }))));
  });

  it("splits large events into batches the broker accepts, and fails an event above the event limit alone", async () => {
    const driver = await embedded();
    await driver.createTopic("large", { partitions: 1 });
    const topic = await driver.openTopic("large");
    const producer = topic.producer({ threadPool: driver.makeThreadPool(2) });
    const blob = "x".repeat(20_000);
    const futures = Array.from({ length: 1024 }, (_, i) => producer.push({ i, blob }));
    const huge = producer.push({ huge: true }, new Uint8Array(2 * 1024 * 1024));
    await producer.close();
    expect(futures.filter((f) => f.error).map((f) => f.error!.message)).toEqual([]);
    expect(await futures[1023]!).toBe(1023);
    expect(huge.error).toBeInstanceOf(ValidationError);
    expect(huge.error!.message).toMatch(/above the broker's limit of 1048576 bytes per event/);
  });

  it("two pushMany calls sharing a full producer both finish", async () => {
    const driver = await embedded();
    await driver.createTopic("two", { partitions: 2 });
    const topic = await driver.openTopic("two");
    const producer = topic.producer({ maxPendingEvents: 100 });
    const drain = async (tag: string) => {
      let n = 0;
      for await (const ack of producer.pushMany(Array.from({ length: 2000 }, (_, i) => ({ metadata: { tag, i } })))) if (!ack.error) n++;
      return n;
    };
    expect(await Promise.all([drain("a"), drain("b")])).toEqual([2000, 2000]);
    await producer.close();
  });

  it("Loose delivers every event exactly once", async () => {
    const driver = await embedded();
    await driver.createTopic("loose", { partitions: 2, validator: { module: FIXTURES, export: "CostlyValidator" } });
    const topic = await driver.openTopic("loose");
    const producer = topic.producer({ name: "l", threadPool: driver.makeThreadPool(2), ordering: Ordering.Loose, chunkSize: 500 });
    const N = 30_000;
    const futures: EventFuture[] = [];
    for (let i = 0; i < N; i++) futures.push(producer.push({ seq: i, cost: Math.floor(i / 500) % 2 === 0 ? 3000 : 30 }));
    await producer.close();
    expect(futures.every((f) => f.completed && !f.error)).toBe(true);
    const seqs = (await readAll(driver.url, "loose", 2)).flat().map((e) => e.metadata.seq as number);
    expect(seqs).toHaveLength(N);
    expect(new Set(seqs).size).toBe(N);
    // futures resolve to where the event really is
    const byPartition = await readAll(driver.url, "loose", 2);
    const f = futures[12_345]!;
    expect(byPartition[f.partition]![await f]!.metadata.seq).toBe(12_345);
  });

  it("isolates validation, selector and input failures to their own events and reports them", async () => {
    const driver = await embedded();
    const schema = { type: "object", properties: { energy: { type: "integer", maximum: 99 } }, required: ["energy"] };
    await driver.createTopic("valid", { partitions: 2, validator: { module: "json-schema", config: { schema } } });
    const topic = await driver.openTopic("valid");
    for (const threads of [0, 2]) {
      const reported: Error[] = [];
      const producer = topic.producer({ name: `v${threads}`, threadPool: driver.makeThreadPool(threads), onError: (e) => reported.push(e) });
      const futures = Array.from({ length: 1000 }, (_, i) => producer.push({ energy: i % 100 === 7 ? 500 : i % 100 }));
      const badData = producer.push({ energy: 1 }, "not bytes" as never);
      const badPartition = producer.push({ energy: 1 }, undefined, { partition: 9 });
      const notJson = producer.push('{"energy": 1', undefined);
      await producer.flush();
      const failed = futures.filter((f) => f.error);
      expect(failed.map((f) => f.index)).toEqual(Array.from({ length: 10 }, (_, k) => k * 100 + 7));
      const err = failed[0]!.error as ValidationError;
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.eventIndex).toBe(7);
      expect(err.stage).toBe("validator");
      expect(err.message).toMatch(/event #7 .*energy must be <= 99/);
      await expect(failed[1]!).rejects.toBeInstanceOf(ValidationError);
      expect(futures.filter((f) => !f.error).every((f) => f.completed)).toBe(true);
      expect(badData.error).toMatchObject({ stage: "input", message: expect.stringContaining("data is a string") });
      expect(badPartition.error).toMatchObject({ stage: "input", message: expect.stringContaining("partition 9") });
      expect(notJson.error).toMatchObject({ stage: "input", message: expect.stringContaining("not valid JSON") });
      expect(reported).toHaveLength(13); // every failure reached the listener, none is an unhandled rejection
      await producer.close();
    }
  });

  it("fails an event whose selector returns an out-of-range partition, alone", async () => {
    const driver = await embedded();
    await driver.createTopic("wild", { partitions: 4, partitionSelector: { module: FIXTURES, export: "WildSelector" } });
    const topic = await driver.openTopic("wild");
    const producer = topic.producer({ threadPool: driver.makeThreadPool(2) });
    const futures = Array.from({ length: 50 }, (_, i) => producer.push({ seq: i, wild: i === 21 }));
    await producer.close();
    expect(futures[21]!.error).toMatchObject({ stage: "partitionSelector", message: expect.stringContaining("returned 9") });
    expect(futures.filter((f) => f.error)).toHaveLength(1);
    expect(futures[22]!.partition).toBe(22 % 4);
  });

  it("Adaptive sends a lone event at once; a fixed batch size waits for n events or flush", async () => {
    const driver = await embedded();
    await driver.createTopic("lone", { partitions: 1 });
    const topic = await driver.openTopic("lone");
    const adaptive = topic.producer({ batchSize: BatchSize.Adaptive });
    expect(await adaptive.push({ hello: 1 }).wait(5000)).toBe(0);
    const fixed = topic.producer({ batchSize: 100 });
    await fixed.ready();
    const lone = fixed.push({ hello: 2 });
    expect(await lone.wait(300)).toBeUndefined(); // held until 100 events or a flush
    expect(lone.completed).toBe(false);
    const rest = Array.from({ length: 99 }, (_, i) => fixed.push({ n: i }));
    expect(await rest[98]!.wait(5000)).toBe(100);
    const tail = fixed.push({ tail: true });
    await fixed.flush();
    expect(tail.completed).toBe(true);
    expect(await tail).toBe(101);
    await adaptive.close();
    await fixed.close();
  });

  it("flush() resolves only after every earlier event is acknowledged; close() flushes; push after close throws", async () => {
    const driver = await embedded();
    await driver.createTopic("fl", { partitions: 4 });
    const topic = await driver.openTopic("fl");
    const producer = topic.producer({ threadPool: driver.makeThreadPool(2), batchSize: 64, maxNumBatches: 1 });
    const first = Array.from({ length: 5000 }, (_, i) => producer.push({ i }));
    await producer.flush();
    expect(first.every((f) => f.completed && !f.error)).toBe(true);
    const second = Array.from({ length: 3001 }, (_, i) => producer.push({ i: 5000 + i }));
    await producer.close();
    expect(second.every((f) => f.completed && !f.error)).toBe(true);
    expect(() => producer.push({ late: true })).toThrow(ClosedError);
    const counts = (await readAll(driver.url, "fl", 4)).map((p) => p.length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(8001);
  });

  it("sends multi-segment data byte-exact and honours explicit partitions and key-hash across threads", async () => {
    const driver = await embedded();
    await driver.createTopic("bytes", { partitions: 5, partitionSelector: "key-hash" });
    const topic = await driver.openTopic("bytes");
    const a = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    const b = new Float64Array([Math.PI, -0]);
    const c = new ArrayBuffer(3);
    new Uint8Array(c).set([9, 8, 7]);
    const inline = topic.producer({ name: "inline" });
    const pooled = topic.producer({ name: "pooled", threadPool: driver.makeThreadPool(2), chunkSize: 16 });
    const multi = pooled.push({ kind: "multi" }, [a, b, c], { partition: 3 });
    const keyed = [...Array(200).keys()].map((i) => (i % 2 ? inline : pooled).push({ kind: "keyed", i }, undefined, { key: "sensor-42" }));
    const other = inline.push({ kind: "other" }, undefined, { key: "sensor-7" });
    await Promise.all([inline.close(), pooled.close()]);
    expect(multi.partition).toBe(3);
    const stored = (await readPartition(driver.url, "bytes", 3))[await multi]!;
    const expected = new Uint8Array([...a, ...new Uint8Array(b.buffer), 9, 8, 7]);
    expect(stored.data).toEqual(expected);
    const partitionsOfKey = new Set(keyed.map((f) => f.partition));
    expect(partitionsOfKey.size).toBe(1); // the same key lands on the same partition, whichever thread ran it
    expect(other.partition).toBeGreaterThanOrEqual(0);
  });

  it("gives the same log inline and on a pool", async () => {
    const driver = await embedded();
    const logs: unknown[] = [];
    for (const threads of [0, 2]) {
      const name = `same${threads}`;
      await driver.createTopic(name, { partitions: 3, partitionSelector: "key-hash", serializer: "binary" });
      const topic = await driver.openTopic(name);
      const producer = topic.producer({ threadPool: driver.makeThreadPool(threads), chunkSize: 100 });
      for (let i = 0; i < 2000; i++) producer.push({ i, nested: { ok: i % 3 === 0 } }, Uint8Array.of(i % 256), { key: `k${i % 13}` });
      await producer.close();
      const consumer = topic.consumer({ name: "check", partitions: [0, 1, 2] });
      const events = await consumer.poll(2000, 2000);
      while (events.length < 2000) events.push(...(await consumer.poll(2000, 2000)));
      await consumer.close();
      logs.push(events.map((e) => [e.partition, e.id, e.metadata, [...e.data]]).sort((x, y) => (x[0] as number) - (y[0] as number) || (x[1] as number) - (y[1] as number)));
    }
    expect(logs[0]).toEqual(logs[1]);
  });

  it("pushMany yields one ack per event in input order, with errors in place", async () => {
    const driver = await embedded();
    await driver.createTopic("bulk", { partitions: 2, validator: { module: FIXTURES, export: "rejectBad" } });
    const topic = await driver.openTopic("bulk");
    const producer = topic.producer({ threadPool: driver.makeThreadPool(2), maxPendingEvents: 500, batchSize: 50 });
    async function* source() {
      for (let i = 0; i < 5000; i++) yield { metadata: { seq: i, bad: i === 4321 } };
    }
    let n = 0;
    let maxPending = 0;
    for await (const ack of producer.pushMany(source())) {
      expect(ack.index).toBe(n++);
      maxPending = Math.max(maxPending, producer.pending);
      if (ack.index === 4321) expect(ack.error).toBeInstanceOf(ValidationError);
      else expect(ack).toMatchObject({ partition: expect.any(Number), id: expect.any(Number) });
    }
    expect(n).toBe(5000);
    expect(maxPending).toBeLessThanOrEqual(500); // backpressure bounded what was in flight
    await producer.close();
  });

  it("settles every future when the broker restarts mid-production, storing no event twice", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    let broker = await startBroker({ dir, port: 0 });
    const port = broker.port;
    cleanups.push(() => broker.close());
    const driver = await Driver.connect(broker.url);
    cleanups.push(() => driver.close());
    await driver.createTopic("restart", { partitions: 2 });
    const topic = await driver.openTopic("restart");
    const producer = topic.producer({ name: "r", threadPool: driver.makeThreadPool(2), deliveryTimeoutMs: 20_000, maxNumBatches: 4 });
    const futures: EventFuture[] = [];
    for (let i = 0; i < 40_000; i++) {
      futures.push(producer.push({ seq: i }));
      if (i === 15_000) {
        await futures[10_000]; // production is under way: batches are in flight now
        await broker.close();
        broker = await startBroker({ dir, port });
      }
      if (!producer.hasCapacity) await producer.ready();
    }
    await producer.flush();
    expect(futures.filter((f) => f.error)).toEqual([]);
    const stats = await producer.stats();
    expect(stats.transport!.reconnects).toBeGreaterThan(0);
    const seqs = (await readAll(broker.url, "restart", 2)).flat().map((e) => e.metadata.seq as number);
    expect(seqs).toHaveLength(40_000);
    expect(new Set(seqs).size).toBe(40_000);
    await producer.close();
  });

  it("rejects with DeliveryTimeoutError when the broker stays away", async () => {
    const { broker, driver } = await separateBroker();
    await driver.createTopic("gone", { partitions: 1 });
    const topic = await driver.openTopic("gone");
    const reported: Error[] = [];
    const producer = topic.producer({ deliveryTimeoutMs: 800, onError: (e) => reported.push(e) });
    expect(await producer.push({ before: true }).wait(5000)).toBe(0);
    await broker.close();
    const lost = producer.push({ after: true });
    await producer.flush();
    expect(lost.error).toBeInstanceOf(DeliveryTimeoutError);
    expect(lost.error!.message).toContain("within 800 ms");
    expect(reported).toEqual([lost.error]);
    await producer.close();
  });

  it("fails events still queued in the producer at their delivery deadline, not one timeout per batch", async () => {
    const { broker, driver } = await separateBroker();
    await driver.createTopic("queued", { partitions: 1 });
    const topic = await driver.openTopic("queued");
    const producer = topic.producer({ deliveryTimeoutMs: 500, batchSize: 10, maxNumBatches: 1 });
    await producer.ready();
    await broker.close();
    const futures = Array.from({ length: 100 }, (_, i) => producer.push({ i }));
    const start = performance.now();
    await producer.flush();
    // Ten batches wait behind one slot; one timeout each would take 5 s.
    expect(performance.now() - start).toBeLessThan(2500);
    expect(futures.every((f) => f.error instanceof DeliveryTimeoutError)).toBe(true);
    await producer.close();
  });

  it("driver.close() closes its consumers, ending a pending iteration", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const broker = await startBroker({ dir, port: 0 });
    cleanups.push(() => broker.close());
    const driver = await Driver.connect(broker.url);
    await driver.createTopic("idle", { partitions: 1 });
    const consumer = (await driver.openTopic("idle")).consumer({ name: "c" });
    const next = consumer[Symbol.asyncIterator]().next();
    await driver.close();
    expect(await next).toMatchObject({ done: true });
  });
});
