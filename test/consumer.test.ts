import { afterEach, describe, expect, it, vi } from "vitest";
import { BrokerClient, connectDriver, encodeRecords, normalizeSpec, type AppendStream, type LogDriver } from "../dist/src/internal.js";
import { Consumer, MetadataDecodeError, type ConsumedEvent, type ConsumerOptions } from "../dist/src/index.js";
import { bytes, removeDir, testBroker } from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A consumer made as `TopicHandle.consumer()` makes it: the driver, the topic, its runnable serializer. */
const newConsumer = (log: LogDriver, info: Awaited<ReturnType<LogDriver["describeTopic"]>>, options: ConsumerOptions) =>
  new Consumer(log, info, normalizeSpec("serializer", "json"), options);

async function setup(partitions = 1) {
  const broker = await testBroker();
  const client = new BrokerClient(broker.url);
  const log = await connectDriver(broker.url);
  cleanups.push(() => removeDir(broker.dir), () => broker.close(), () => client.close(), () => log.close());
  await client.createTopic({ name: "t", partitions });
  const stream: AppendStream = client.openAppendStream();
  cleanups.push(() => stream.end());
  let seq = 0;
  /** Appends `n` events {k: `${prefix}-${i}`} with data [i] to `partition`. */
  const append = async (partition: number, prefix: string, n: number, metadata = (i: number) => bytes(JSON.stringify({ k: `${prefix}-${i}` }))) => {
    const records = encodeRecords(Array.from({ length: n }, (_, i) => ({ metadata: metadata(i), data: Uint8Array.of(i % 256, partition) })));
    const ack = await stream.append({ topic: "t", partition, producerId: "p", batchSeq: seq++, count: n, records });
    expect(ack.error).toBeFalsy();
    return ack.firstEventId;
  };
  const consumer = async (options: ConsumerOptions) => {
    const c = newConsumer(log, await log.describeTopic("t"), options);
    cleanups.push(() => c.close());
    return c;
  };
  return { broker, client, log, append, consumer };
}

/** Polls until `n` events arrived (fails after 1.5 s). */
async function take(consumer: Consumer, n: number): Promise<ConsumedEvent[]> {
  const out: ConsumedEvent[] = [];
  const deadline = Date.now() + 1500;
  while (out.length < n && Date.now() < deadline) out.push(...(await consumer.poll(n - out.length, 100)));
  expect(out).toHaveLength(n);
  return out;
}

const ids = (events: ConsumedEvent[]) => events.map((e) => e.id);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("Consumer", () => {
  it("reads from earliest with decoded metadata, data views and timestamps, then follows", async () => {
    const { append, consumer } = await setup();
    const before = Date.now();
    await append(0, "a", 10);
    await append(0, "b", 10);
    const c = await consumer({ name: "c1" });
    const events = await take(c, 20);
    expect(ids(events)).toEqual(range(0, 20));
    expect(events[12]).toMatchObject({ partition: 0, id: 12, metadata: { k: "b-2" } });
    expect(events[12]!.data).toEqual(Uint8Array.of(2, 0));
    expect(Buffer.isBuffer(events[12]!.data)).toBe(false);
    // A view into the received frame, not a copy per event.
    expect(events[12]!.data.buffer.byteLength).toBeGreaterThan(events[12]!.data.byteLength);
    expect(events[0]!.timestamp).toBeGreaterThanOrEqual(before - 5);
    expect(events[0]!.timestamp).toBeLessThanOrEqual(Date.now() + 5);
    // Follow mode: the iterator waits for new events.
    const it = c[Symbol.asyncIterator]();
    const next = it.next();
    await sleep(30);
    await append(0, "c", 1);
    expect((await next).value).toMatchObject({ id: 20, metadata: { k: "c-0" } });
  });

  it("starts at latest: only events appended after the start", async () => {
    const { append, consumer } = await setup();
    await append(0, "old", 10);
    const c = await consumer({ name: "c", start: "latest" });
    expect(await c.poll(100, 150)).toEqual([]);
    await append(0, "new", 5);
    const events = await take(c, 5);
    expect(ids(events)).toEqual(range(10, 15));
    expect(events[0]!.metadata).toEqual({ k: "new-0" });
  });

  it("starts at an offset and at a time", async () => {
    const { append, consumer } = await setup();
    await append(0, "a", 10);
    await sleep(20);
    const t1 = Date.now();
    await sleep(20);
    await append(0, "b", 10);
    expect(ids(await take(await consumer({ name: "o", start: { offset: 7 } }), 13))).toEqual(range(7, 20));
    const byTime = await take(await consumer({ name: "t", start: { time: t1 } }), 10);
    expect(ids(byTime)).toEqual(range(10, 20));
    expect(byTime[0]!.metadata).toEqual({ k: "b-0" });
  });

  it("merges partitions, keeping each partition's order, and reads only the chosen ones", async () => {
    const { append, consumer } = await setup(3);
    for (let round = 0; round < 4; round++) for (let p = 0; p < 3; p++) await append(p, `r${round}p${p}`, 25);
    const all = await take(await consumer({ name: "all" }), 300);
    for (let p = 0; p < 3; p++) {
      const mine = all.filter((e) => e.partition === p);
      expect(ids(mine)).toEqual(range(0, 100));
      expect(mine.every((e) => e.data[1] === p)).toBe(true);
      expect(mine[30]!.metadata).toEqual({ k: `r1p${p}-5` });
    }
    const some = await consumer({ name: "some", partitions: [2, 0] });
    const chosen = await take(some, 200);
    expect(new Set(chosen.map((e) => e.partition))).toEqual(new Set([0, 2]));
    expect(await some.poll(10, 100)).toEqual([]);
  });

  it("keeps order and loses nothing when reading pauses on a small buffer", async () => {
    const { append, consumer } = await setup(2);
    for (let i = 0; i < 10; i++) for (let p = 0; p < 2; p++) await append(p, `b${i}`, 50);
    const c = await consumer({ name: "slow", maxBuffered: 7 });
    const seen: ConsumedEvent[] = [];
    for await (const ev of c) {
      seen.push(ev);
      if (seen.length % 100 === 0) await sleep(5); // a slow reader: the streams must pause, not drop
      if (seen.length === 1000) break;
    }
    for (let p = 0; p < 2; p++) expect(ids(seen.filter((e) => e.partition === p))).toEqual(range(0, 500));
  });

  it("resumes by name after the last acknowledged event", async () => {
    const { append, client, consumer } = await setup();
    for (let i = 0; i < 5; i++) await append(0, `b${i}`, 10);
    const first = await consumer({ name: "app" });
    let n = 0;
    let lastAck: Promise<void> | undefined;
    for await (const ev of first) {
      lastAck = ev.acknowledge(); // not awaited: commits coalesce
      if (++n === 30) break; // leaving the loop closes the consumer, after pending commits
    }
    await lastAck;
    expect(await client.fetchCursor("t", "app", 0)).toBe(30);
    await expect(first.poll(1, 10)).resolves.toEqual([]);

    const again = await consumer({ name: "app", start: "latest" }); // the cursor wins over start
    const rest = await take(again, 20);
    expect(ids(rest)).toEqual(range(30, 50));
    expect(rest[0]!.metadata).toEqual({ k: "b3-0" });
    expect(ids(await take(await consumer({ name: "other" }), 50))).toEqual(range(0, 50));
  });

  it("coalesces acknowledgements and never moves a cursor back", async () => {
    const { append, client, log, consumer } = await setup(2);
    await append(0, "x", 100);
    await append(1, "y", 10);
    const c = await consumer({ name: "acks" });
    const events = await take(c, 110);
    const commits = vi.spyOn(log, "commitCursor");
    const p0 = events.filter((e) => e.partition === 0);
    const acks = p0.map((e) => e.acknowledge());
    await Promise.all(acks);
    // One commit was in flight when the other 99 came: they share the second one.
    expect(commits.mock.calls.map((c) => c.slice(0, 4))).toEqual([["t", "acks", 0, 1], ["t", "acks", 0, 100]]);
    await p0[10]!.acknowledge(); // older than the stored cursor: resolves at once
    expect(commits).toHaveBeenCalledTimes(2);
    expect(await client.fetchCursor("t", "acks", 0)).toBe(100);
    expect(await client.fetchCursor("t", "acks", 1)).toBeUndefined();
    void events.find((e) => e.partition === 1 && e.id === 4)!.acknowledge();
    await c.close(); // waits for the commit under way
    expect(await client.fetchCursor("t", "acks", 1)).toBe(5);
    await expect(p0[0]!.acknowledge()).rejects.toThrow(/closed/);
  });

  it("poll() resolves [] after its timeout when nothing arrives", async () => {
    const { consumer } = await setup();
    const c = await consumer({ name: "idle" });
    const t0 = Date.now();
    expect(await c.poll(10, 150)).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(await c.poll(10, 0)).toEqual([]);
  });

  it("close() is idempotent and ends iteration, also for a pending next()", async () => {
    const { append, consumer } = await setup();
    await append(0, "a", 3);
    const c = await consumer({ name: "cl" });
    await take(c, 3);
    const it = c[Symbol.asyncIterator]();
    const pending = it.next();
    await Promise.all([c.close(), c.close()]);
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    await c[Symbol.asyncDispose]();
  });

  it("ends the iterator with the broker's error when the topic is deleted", async () => {
    const { append, client, log, consumer } = await setup(2);
    await append(0, "a", 2);
    const c = await consumer({ name: "del" });
    const it = c[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ id: 0 });
    const second = (await it.next()).value as ConsumedEvent;
    expect(second.id).toBe(1);
    const failed = it.next();
    await client.deleteTopic("t");
    await expect(failed).rejects.toMatchObject({ name: "BrokerError", code: "UNKNOWN_TOPIC" });
    // The commit of an acknowledgement fails too, and says why.
    await expect(second.acknowledge()).rejects.toMatchObject({ name: "BrokerError", code: "UNKNOWN_TOPIC" });
    await expect(c.poll(1, 10)).rejects.toMatchObject({ code: "UNKNOWN_TOPIC" });
    // A consumer of a topic that no longer exists fails the same way.
    const info = { name: "gone", partitions: 1, replicas: 1, pipeline: { validator: { module: "" }, partitionSelector: { module: "" }, serializer: { module: "" } }, partitionInfo: [], createdAtMs: 0 };
    const late = newConsumer(log, info, { name: "x" });
    cleanups.push(() => late.close());
    await expect(late.poll(1, 1000)).rejects.toMatchObject({ code: "UNKNOWN_TOPIC" });
  });

  it("fails at an event whose metadata the serializer cannot decode, naming partition and id", async () => {
    const { append, consumer } = await setup();
    await append(0, "ok", 4, (i) => (i === 2 ? bytes("{not json") : bytes(JSON.stringify({ i }))));
    const c = await consumer({ name: "bad" });
    const good = await c.poll(10, 500);
    expect(good.map((e) => e.metadata)).toEqual([{ i: 0 }, { i: 1 }]);
    const err = await c.poll(10, 500).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetadataDecodeError);
    expect(err).toMatchObject({ partition: 0, id: 2, message: expect.stringMatching(/event 2 in partition 0/) });
  });

  it("refuses bad options with errors naming the problem", async () => {
    const { log } = await setup(2);
    const info = await log.describeTopic("t");
    const make = (options: unknown) => () => newConsumer(log, info, options as ConsumerOptions);
    expect(make({ name: "" })).toThrow(expect.objectContaining({ name: "InvalidArgumentError", message: expect.stringContaining("consumer name must be a non-empty string") }));
    expect(make({})).toThrow(/consumer name/);
    expect(make({ name: "c", partitions: [0, 2] })).toThrow(/partition 2 does not exist: topic 't' has 2 partitions/);
    expect(make({ name: "c", partitions: [-1] })).toThrow(/partition -1 does not exist/);
    expect(make({ name: "c", partitions: [0.5] })).toThrow(/partition 0.5 does not exist/);
    expect(make({ name: "c", partitions: [1, 1] })).toThrow(/partition 1 is listed twice/);
    expect(make({ name: "c", partitions: [] })).toThrow(/non-empty array/);
    for (const start of ["middle", { offset: -1 }, { offset: 1.5 }, { time: "now" }, { offset: 1, time: 2 }, null]) {
      expect(make({ name: "c", start })).toThrow(/consumer start must be/);
    }
    expect(make({ name: "c", maxBuffered: 0 })).toThrow(/maxBuffered must be a positive integer/);
    const c = newConsumer(log, info, { name: "ok" });
    cleanups.push(() => c.close());
    await expect(c.poll(0)).rejects.toThrow(/poll max/);
  });
});
