import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BrokerClient, appendError, encodeRecords, iterateRecords } from "../dist/src/internal.js";
import { bytes, removeDir, spawnBroker, tempDir, testBroker, text } from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options = {}) {
  const broker = await testBroker(undefined, options);
  const client = new BrokerClient(broker.url);
  cleanups.push(() => removeDir(broker.dir), () => broker.close(), () => client.close());
  return { broker, client };
}

function batch(prefix: string, n: number, dataSize = 0) {
  return encodeRecords(
    Array.from({ length: n }, (_, i) => ({ metadata: bytes(JSON.stringify({ k: `${prefix}-${i}` })), data: new Uint8Array(dataSize).fill(i % 256) })),
  );
}

async function readAll(client: BrokerClient, topic: string, partition: number, start: Parameters<BrokerClient["read"]>[0]["start"] = "earliest") {
  const events: { id: number; metadata: string; data: Uint8Array; ts: number }[] = [];
  for await (const res of client.read({ topic, partition, start })) {
    let id = res.firstEventId;
    for (const r of iterateRecords(res.records, res.count)) events.push({ id: id++, metadata: text(r.metadata), data: Uint8Array.from(r.data), ts: res.timestampMs });
  }
  return events;
}

describe("broker", () => {
  it("creates, lists, describes and deletes topics", async () => {
    const { client } = await setup();
    const info = await client.createTopic({ name: "t1", partitions: 3 });
    expect(info.partitions).toBe(3);
    expect(info.partitionInfo.map((p) => p.nextOffset)).toEqual([0, 0, 0]);
    await client.createTopic({ name: "t2", partitions: 1 });
    expect((await client.listTopics()).map((t) => t.name)).toEqual(["t1", "t2"]);
    await expect(client.createTopic({ name: "t1", partitions: 1 })).rejects.toMatchObject({ code: "TOPIC_EXISTS" });
    expect(await client.deleteTopic("t1")).toBe(true);
    await expect(client.describeTopic("t1")).rejects.toMatchObject({ code: "UNKNOWN_TOPIC", message: expect.stringContaining("'t1'") });
  });

  it("round-trips records byte-exact with contiguous IDs from 0", async () => {
    const { client } = await setup();
    await client.createTopic({ name: "rt", partitions: 2 });
    const stream = client.openAppendStream();
    const data = new Uint8Array(4096).map((_, i) => (i * 7) % 256);
    const records = encodeRecords([
      { metadata: bytes('{"a":1}'), data },
      { metadata: new Uint8Array(0), data: new Uint8Array(0) },
      { metadata: bytes("ü€"), data: Uint8Array.of(0, 255, 0) },
    ]);
    const a1 = await stream.append({ topic: "rt", partition: 1, producerId: "p", batchSeq: 0, count: 3, records });
    const a2 = await stream.append({ topic: "rt", partition: 1, producerId: "p", batchSeq: 1, count: 3, records });
    expect([a1.firstEventId, a1.count, a2.firstEventId]).toEqual([0, 3, 3]);
    stream.end();
    const events = await readAll(client, "rt", 1);
    expect(events.map((e) => e.id)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(events[0]!.metadata).toBe('{"a":1}');
    expect(events[0]!.data).toEqual(data);
    expect(events[1]!.data.byteLength).toBe(0);
    expect(events[2]!.metadata).toBe("ü€");
    expect(events[5]!.data).toEqual(Uint8Array.of(0, 255, 0));
    expect(await readAll(client, "rt", 0)).toEqual([]);
  });

  it("keeps IDs contiguous across a restart and dedupes a re-sent batch, also after restart", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    let broker = await testBroker(dir);
    let client = new BrokerClient(broker.url);
    let stream = client.openAppendStream();
    const early = await stream.append({ topic: "x", partition: 0, producerId: "p", batchSeq: 0, count: 10, records: batch("b0", 10) });
    expect(appendError(early)).toMatchObject({ code: "UNKNOWN_TOPIC", message: expect.stringContaining("'x' does not exist") });
    await client.createTopic({ name: "x", partitions: 1 });
    for (let seq = 0; seq < 5; seq++) {
      const ack = await stream.append({ topic: "x", partition: 0, producerId: "p", batchSeq: seq, count: 10, records: batch(`b${seq}`, 10) });
      expect(ack).toMatchObject({ firstEventId: seq * 10, count: 10, duplicate: false });
    }
    const dup = await stream.append({ topic: "x", partition: 0, producerId: "p", batchSeq: 2, count: 10, records: batch("b2", 10) });
    expect(dup).toMatchObject({ firstEventId: 20, count: 10, duplicate: true });
    client.close();
    await broker.close();

    broker = await testBroker(dir);
    client = new BrokerClient(broker.url);
    cleanups.push(() => broker.close(), () => client.close());
    stream = client.openAppendStream();
    const again = await stream.append({ topic: "x", partition: 0, producerId: "p", batchSeq: 4, count: 10, records: batch("b4", 10) });
    expect(again).toMatchObject({ firstEventId: 40, duplicate: true });
    const next = await stream.append({ topic: "x", partition: 0, producerId: "p", batchSeq: 5, count: 10, records: batch("b5", 10) });
    expect(next).toMatchObject({ firstEventId: 50, count: 10, duplicate: false });
    const events = await readAll(client, "x", 0);
    expect(events.map((e) => e.id)).toEqual([...Array(60).keys()]);
    expect(events[45]!.metadata).toBe('{"k":"b4-5"}');
    expect(events[55]!.metadata).toBe('{"k":"b5-5"}');
  });

  it("recovers a segment truncated in the middle of a batch to the last whole batch", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    let broker = await testBroker(dir);
    let client = new BrokerClient(broker.url);
    await client.createTopic({ name: "torn", partitions: 1 });
    const stream = client.openAppendStream();
    for (let seq = 0; seq < 3; seq++) await stream.append({ topic: "torn", partition: 0, producerId: "p", batchSeq: seq, count: 100, records: batch(`s${seq}`, 100, 50) });
    client.close();
    await broker.close();
    const segment = path.join(dir, "topics/torn/partition-0", "00000000000000000000.log");
    const size = fs.statSync(segment).size;
    fs.truncateSync(segment, size - 1234); // cut inside the third batch
    broker = await testBroker(dir);
    client = new BrokerClient(broker.url);
    cleanups.push(() => broker.close(), () => client.close());
    expect((await client.describeTopic("torn")).partitionInfo[0]!.nextOffset).toBe(200);
    const events = await readAll(client, "torn", 0);
    expect(events.map((e) => e.id)).toEqual([...Array(200).keys()]);
    const s2 = client.openAppendStream();
    // The lost batch was never acknowledged after the cut: re-sending it stores it at 200.
    const ack = await s2.append({ topic: "torn", partition: 0, producerId: "p", batchSeq: 2, count: 100, records: batch("s2", 100, 50) });
    expect(ack).toMatchObject({ firstEventId: 200, duplicate: false });
  });

  it("gives 8 concurrent appenders on one partition unique, contiguous IDs", async () => {
    const { broker, client } = await setup();
    await client.createTopic({ name: "c", partitions: 1 });
    const appenders = Array.from({ length: 8 }, () => new BrokerClient(broker.url));
    cleanups.push(() => appenders.forEach((c) => c.close()));
    const acks = await Promise.all(
      appenders.map(async (c, w) => {
        const s = c.openAppendStream();
        const mine = await Promise.all(
          Array.from({ length: 25 }, (_, seq) => s.append({ topic: "c", partition: 0, producerId: `w${w}`, batchSeq: seq, count: 4, records: batch(`w${w}-${seq}`, 4) })),
        );
        s.end();
        return mine;
      }),
    );
    const ranges = acks.flat().map((a) => [a.firstEventId, a.count] as const).sort((a, b) => a[0] - b[0]);
    expect(ranges).toHaveLength(200);
    ranges.forEach(([first, count], i) => expect([first, count]).toEqual([i * 4, 4]));
    const events = await readAll(client, "c", 0);
    expect(events).toHaveLength(800);
    // Each batch's 4 events stay together and in order.
    for (let i = 0; i < 800; i += 4) {
      const k = JSON.parse(events[i]!.metadata).k as string;
      const prefix = k.slice(0, k.lastIndexOf("-"));
      expect(events.slice(i, i + 4).map((e) => JSON.parse(e.metadata).k)).toEqual([0, 1, 2, 3].map((j) => `${prefix}-${j}`));
    }
  });

  it("refuses bad topic names, bad partitions and oversized input with clear errors and keeps serving", async () => {
    const { client } = await setup({ limits: { maxBatchBytes: 64 * 1024, maxEventBytes: 8 * 1024 } });
    for (const [name, message] of [
      ["../x", "characters other than"],
      ["", "empty"],
      ["a".repeat(300), "300 characters"],
      ["..", "reserved"],
    ] as const) {
      await expect(client.createTopic({ name, partitions: 1 })).rejects.toMatchObject({ code: "INVALID_TOPIC_NAME", message: expect.stringContaining(message) });
    }
    await expect(client.createTopic({ name: "zero", partitions: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("partition count 0") });
    await client.createTopic({ name: "ok", partitions: 2 });
    const s = client.openAppendStream();
    const big = await s.append({ topic: "ok", partition: 0, producerId: "p", batchSeq: 0, count: 20, records: batch("big", 20, 4000) });
    expect(appendError(big)).toMatchObject({ code: "BATCH_TOO_LARGE", message: expect.stringContaining("the limit is 65536 bytes") });
    const fat = await s.append({ topic: "ok", partition: 0, producerId: "p", batchSeq: 1, count: 1, records: batch("fat", 1, 9000) });
    expect(appendError(fat)).toMatchObject({ code: "EVENT_TOO_LARGE", message: expect.stringContaining("record 0") });
    const lying = await s.append({ topic: "ok", partition: 0, producerId: "p", batchSeq: 2, count: 5, records: batch("l", 3) });
    expect(appendError(lying)).toMatchObject({ code: "MALFORMED_BATCH" });
    const noPartition = await s.append({ topic: "ok", partition: 7, producerId: "p", batchSeq: 3, count: 1, records: batch("np", 1) });
    expect(appendError(noPartition)).toMatchObject({ code: "BAD_PARTITION", message: expect.stringContaining("no partition 7") });
    const evil = await s.append({ topic: "../../etc", partition: 0, producerId: "p", batchSeq: 4, count: 1, records: batch("e", 1) });
    expect(appendError(evil)).toMatchObject({ code: "INVALID_TOPIC_NAME" });
    // Still serving, on the same stream: nothing of the refused batches was stored.
    const good = await s.append({ topic: "ok", partition: 0, producerId: "p", batchSeq: 5, count: 2, records: batch("g", 2) });
    expect(good).toMatchObject({ firstEventId: 0, count: 2 });
    expect((await readAll(client, "ok", 0)).map((e) => e.metadata)).toEqual(['{"k":"g-0"}', '{"k":"g-1"}']);
  });

  it("reads from earliest, latest, an offset, a timestamp, and follows new events", async () => {
    const { client } = await setup();
    await client.createTopic({ name: "r", partitions: 1 });
    const s = client.openAppendStream();
    await s.append({ topic: "r", partition: 0, producerId: "p", batchSeq: 0, count: 10, records: batch("a", 10) });
    await new Promise((r) => setTimeout(r, 20));
    const t1 = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    await s.append({ topic: "r", partition: 0, producerId: "p", batchSeq: 1, count: 10, records: batch("b", 10) });
    expect((await readAll(client, "r", 0, "earliest")).map((e) => e.id)).toEqual([...Array(20).keys()]);
    const fromOffset = await readAll(client, "r", 0, { offset: 7 });
    expect(fromOffset.map((e) => e.id)).toEqual([...Array(13).keys()].map((i) => i + 7));
    expect(fromOffset[0]!.metadata).toBe('{"k":"a-7"}');
    const fromTime = await readAll(client, "r", 0, { time: t1 });
    expect(fromTime.map((e) => e.id)[0]).toBe(10);
    expect(fromTime.every((e) => e.ts >= t1)).toBe(true);
    expect(await readAll(client, "r", 0, "latest")).toEqual([]);

    // Follow from latest: sees only events appended after it started.
    const follow = client.read({ topic: "r", partition: 0, start: "latest", follow: true });
    const seen: string[] = [];
    const done = (async () => {
      for await (const res of follow) {
        for (const rec of iterateRecords(res.records, res.count)) seen.push(text(rec.metadata));
        if (seen.length >= 15) follow.cancel();
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    await s.append({ topic: "r", partition: 0, producerId: "p", batchSeq: 2, count: 5, records: batch("c", 5) });
    await new Promise((r) => setTimeout(r, 50));
    await s.append({ topic: "r", partition: 0, producerId: "p", batchSeq: 3, count: 10, records: batch("d", 10) });
    await done;
    expect(seen).toEqual([...batchKeys("c", 5), ...batchKeys("d", 10)]);
    // max events bounds a read
    const limited: number[] = [];
    for await (const res of client.read({ topic: "r", partition: 0, start: { offset: 3 }, maxEvents: 4 })) limited.push(res.firstEventId, res.count);
    expect(limited).toEqual([3, 4]);
  });

  it("keeps every acknowledged batch when killed with SIGKILL under --fsync always", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const { child, url } = await spawnBroker(dir, ["--fsync", "always"]);
    cleanups.push(() => void (child.exitCode === null && child.kill("SIGKILL")));
    const client = new BrokerClient(url);
    await client.createTopic({ name: "k", partitions: 1 });
    const s = client.openAppendStream();
    // Keep 16 batches in flight and kill the broker once 100 have been acknowledged.
    let acked = 0;
    let ackedBatches = 0;
    const inFlight = new Set<Promise<unknown>>();
    for (let seq = 0; seq < 2000 && !s.error; seq++) {
      const p = s.append({ topic: "k", partition: 0, producerId: "q", batchSeq: seq, count: 50, records: batch(`q${seq}`, 50, 100) }).then(
        (a) => {
          if (a.error) return;
          acked = Math.max(acked, a.firstEventId + a.count);
          if (++ackedBatches === 100) child.kill("SIGKILL");
        },
        () => {},
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= 16) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await new Promise((r) => child.exitCode !== null || child.signalCode !== null ? r(null) : child.once("exit", r));
    client.close();
    expect(acked).toBeGreaterThan(0);
    const broker = await testBroker(dir);
    const c2 = new BrokerClient(broker.url);
    cleanups.push(() => broker.close(), () => c2.close());
    const events = await readAll(c2, "k", 0);
    expect(events.length).toBeGreaterThanOrEqual(acked);
    expect(events.map((e) => e.id)).toEqual([...Array(events.length).keys()]);
  });
});

function batchKeys(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ k: `${prefix}-${i}` }));
}
