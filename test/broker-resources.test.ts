/**
 * What one client may hold (issue 9, defect 8): bounded memory for readers that never
 * read, quotas refused with the quota's name, an fd budget under a low `ulimit -n`,
 * cancelled follow reads that leave nothing behind, dedupe state that expires, cursor
 * commits that do not rewrite everything.
 */
import fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { BrokerClient } from "../dist/src/drivers/tributary/broker-client.js";
import { batch, readOutcome, spawnChildBroker, within } from "./broker-helpers.js";
import { removeDir, tempDir, testBroker } from "./helpers.js";
import { ModelIO } from "./storage-model.js";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const MiB = 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("broker resources", () => {
  it("holds a bounded amount for each Read stream whose client never reads", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const broker = await spawnChildBroker({ dir, fsync: "never" });
    cleanups.push(broker.stop);
    const client = new BrokerClient(broker.url);
    cleanups.push(() => client.close());
    await client.createTopic({ name: "big", partitions: 1 });
    const s = client.openAppendStream();
    for (let seq = 0; seq < 32; seq++) await s.append({ topic: "big", partition: 0, producerId: "p", batchSeq: seq, count: 64, records: batch(`b${seq}`, 64, 16 * 1024) });
    await sleep(300);
    const before = broker.rss();
    const readers = Array.from({ length: 20 }, () => new BrokerClient(broker.url));
    cleanups.push(() => readers.forEach((r) => r.close()));
    // Each starts a read of the 32 MiB partition, takes one message, and never reads again.
    await Promise.all(readers.map((r) => r.read({ topic: "big", partition: 0, start: "earliest" })[Symbol.asyncIterator]().next()));
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      await sleep(200);
      peak = Math.max(peak, broker.rss());
    }
    console.log(`20 readers that never read: broker RSS ${Math.round(before / MiB)} → peak ${Math.round(peak / MiB)} MiB (${((peak - before) / 20 / MiB).toFixed(1)} MiB a stream)`);
    // 0.1 held about 16 MiB a stream (16 messages of up to 1 MiB in grpc-js's buffer).
    expect(peak - before).toBeLessThan(20 * 5 * MiB);
    // And the broker still serves everyone else.
    expect((await within(2000, "describe", client.describeTopic("big"))).partitionInfo[0]!.nextOffset).toBe(32 * 64);
  });

  it("refuses topics, partitions, streams, consumers and long names past their quotas, naming the quota", async () => {
    const broker = await testBroker(undefined, { limits: { maxTopics: 3, maxTotalPartitions: 6, maxOpenStreams: 3, maxConsumersPerTopic: 2, maxConsumerNameBytes: 16 } });
    const client = new BrokerClient(broker.url);
    cleanups.push(() => removeDir(broker.dir), () => broker.close(), () => client.close());
    await client.createTopic({ name: "q1", partitions: 4 });
    await expect(client.createTopic({ name: "q2", partitions: 3 })).rejects.toMatchObject({ code: "QUOTA_EXCEEDED", message: expect.stringContaining("maxTotalPartitions is 6") });
    await client.createTopic({ name: "q2", partitions: 1 });
    await client.createTopic({ name: "q3", partitions: 1 });
    await expect(client.createTopic({ name: "q4", partitions: 1 })).rejects.toMatchObject({ code: "QUOTA_EXCEEDED", message: expect.stringContaining("maxTopics is 3") });
    await client.deleteTopic("q3");
    await client.createTopic({ name: "q4", partitions: 1 });

    const follows = Array.from({ length: 3 }, () => client.read({ topic: "q1", partition: 0, start: "latest", follow: true }));
    const iterators = follows.map((f) => f[Symbol.asyncIterator]());
    const pending = iterators.map((it) => it.next().catch(() => undefined));
    const followers = broker.broker.partition("q1", 0);
    await within(5000, "3 follow reads waiting", (async () => {
      while (followers.waiting < 3) await sleep(20);
    })());
    const fourth = await readOutcome(client, "q1", 1, "earliest", 2000);
    expect(fourth.error).toMatchObject({ code: "QUOTA_EXCEEDED", message: expect.stringContaining("maxOpenStreams is 3") });
    const append = client.openAppendStream();
    await expect(append.append({ topic: "q1", partition: 0, producerId: "p", batchSeq: 0, count: 1, records: batch("x", 1) })).rejects.toMatchObject({ code: "QUOTA_EXCEEDED" });
    follows[0]!.cancel();
    await pending[0];
    await sleep(100);
    expect((await readOutcome(client, "q1", 1, "earliest", 2000)).error).toBeUndefined();
    follows.slice(1).forEach((f) => f.cancel());

    await client.commitCursor("q1", "c1", 0, 1);
    await client.commitCursor("q1", "c2", 0, 1);
    await expect(client.commitCursor("q1", "c3", 0, 1)).rejects.toMatchObject({ code: "QUOTA_EXCEEDED", message: expect.stringContaining("maxConsumersPerTopic is 2") });
    await client.commitCursor("q1", "c1", 1, 2);
    await expect(client.commitCursor("q2", "x".repeat(17), 0, 1)).rejects.toMatchObject({ code: "QUOTA_EXCEEDED", message: expect.stringContaining("maxConsumerNameBytes is 16") });
  });

  it("reads and appends across hundreds of segments under ulimit -n 128", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const limit = ["prlimit", "--nofile=128:128"];
    const options = { dir, fsync: "never", segmentBytes: 4096 };
    let broker = await spawnChildBroker(options, limit);
    cleanups.push(broker.stop);
    let client = new BrokerClient(broker.url);
    await client.createTopic({ name: "fd", partitions: 2 });
    const s = client.openAppendStream();
    for (let seq = 0; seq < 300; seq++) {
      for (const partition of [0, 1]) {
        const ack = await s.append({ topic: "fd", partition, producerId: `p${partition}`, batchSeq: seq, count: 4, records: batch(`${partition}-${seq}`, 4, 900) });
        expect(ack.error?.message).toBeUndefined();
      }
    }
    client.close();
    await broker.stop();
    const segments = [0, 1].map((p) => fs.readdirSync(`${dir}/topics/fd/partition-${p}`).filter((f) => f.endsWith(".log")).length);
    // Two descriptors a segment would need about 600: several times the limit.
    expect(segments[0]! + segments[1]!).toBeGreaterThan(280);

    broker = await spawnChildBroker(options, limit);
    cleanups.push(broker.stop);
    client = new BrokerClient(broker.url);
    cleanups.push(() => client.close());
    for (const partition of [0, 1]) {
      const read = await readOutcome(client, "fd", partition, "earliest", 20_000);
      expect(read.error).toBeUndefined();
      expect(read.events).toHaveLength(1200);
      expect(read.events[1199]!.metadata).toBe(JSON.stringify({ k: `${partition}-299-3` }));
    }
    const more = await client.openAppendStream().append({ topic: "fd", partition: 0, producerId: "q", batchSeq: 0, count: 1, records: batch("more", 1) });
    expect(more).toMatchObject({ firstEventId: 1200 });
  });

  it("removes the waiter of a cancelled follow read", async () => {
    const broker = await testBroker();
    const client = new BrokerClient(broker.url);
    cleanups.push(() => removeDir(broker.dir), () => broker.close(), () => client.close());
    await client.createTopic({ name: "w", partitions: 1 });
    const log = broker.broker.partition("w", 0) as unknown as { waiting?: number; waiters: unknown[] };
    const waiting = (): number => log.waiting ?? log.waiters.length;
    const follows = Array.from({ length: 50 }, () => client.read({ topic: "w", partition: 0, start: "latest", follow: true }));
    const running = follows.map((f) => f[Symbol.asyncIterator]().next().catch(() => undefined));
    await within(3000, "50 waiters", (async () => {
      while (waiting() < 50) await sleep(20);
    })());
    follows.forEach((f) => f.cancel());
    await Promise.all(running);
    await sleep(200);
    expect(waiting()).toBe(0);
  });

  it("forgets idle producers and keeps at most maxProducersPerPartition of them", async () => {
    const broker = await testBroker(undefined, { limits: { producerIdleMs: 300, maxProducersPerPartition: 3 } });
    const client = new BrokerClient(broker.url);
    cleanups.push(() => removeDir(broker.dir), () => broker.close(), () => client.close());
    await client.createTopic({ name: "d", partitions: 1 });
    const log = broker.broker.partition("d", 0) as unknown as { producerCount?: number; producers: Map<string, unknown> };
    const producers = (): number => log.producerCount ?? log.producers.size;
    const s = client.openAppendStream();
    for (let i = 0; i < 5; i++) await s.append({ topic: "d", partition: 0, producerId: `p${i}`, batchSeq: 0, count: 1, records: batch(`p${i}`, 1) });
    expect(producers()).toBe(3);
    // p4 is remembered: its re-send is answered with the original IDs.
    expect(await s.append({ topic: "d", partition: 0, producerId: "p4", batchSeq: 0, count: 1, records: batch("p4", 1) })).toMatchObject({ firstEventId: 4, duplicate: true });
    await sleep(1100);
    await s.append({ topic: "d", partition: 0, producerId: "fresh", batchSeq: 0, count: 1, records: batch("fresh", 1) });
    expect(producers()).toBe(1);
    // Past the window a re-send is a new batch (the README documents the window).
    expect(await s.append({ topic: "d", partition: 0, producerId: "p4", batchSeq: 0, count: 1, records: batch("p4", 1) })).toMatchObject({ firstEventId: 6, duplicate: false });
  });

  it("stores a cursor commit without rewriting every cursor, and without a blocking fsync per commit", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const broker = await spawnChildBroker({ dir, limits: { maxConsumersPerTopic: 5000 } });
    cleanups.push(broker.stop);
    const client = new BrokerClient(broker.url);
    cleanups.push(() => client.close());
    await client.createTopic({ name: "cur", partitions: 1 });
    const before = broker.writtenBytes();
    const names = Array.from({ length: 1000 }, (_, i) => `consumer-${i}-${"n".repeat(200)}`);
    for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((n, j) => client.commitCursor("cur", n, 0, i + j)));
    const written = broker.writtenBytes() - before;
    console.log(`1,000 cursor commits of 200-character names: ${(written / MiB).toFixed(2)} MiB written`);
    // 0.1 rewrote the whole cursor file per commit: about 115 MiB here.
    expect(written).toBeLessThan(10 * MiB);
    expect(await client.fetchCursor("cur", names[999]!, 0)).toBe(999);

    // In process, through the I/O seam: how commits reach the disk.
    const io = new ModelIO();
    let syncNow = 0;
    let syncAsync = 0;
    const { datasyncNow, datasync } = io;
    io.datasyncNow = (fd) => (syncNow++, datasyncNow.call(io, fd));
    io.datasync = (fd, cb) => (syncAsync++, datasync.call(io, fd, cb));
    const local = await testBroker(undefined, { io });
    const c2 = new BrokerClient(local.url);
    cleanups.push(() => removeDir(local.dir), () => local.close(), () => c2.close());
    await c2.createTopic({ name: "cur", partitions: 1 });
    [syncNow, syncAsync] = [0, 0];
    for (let i = 0; i < 300; i++) await c2.commitCursor("cur", "one", 0, i);
    await Promise.all(Array.from({ length: 300 }, (_, i) => c2.commitCursor("cur", `many-${i % 10}`, 0, i)));
    // One fdatasync on the thread pool per group of commits; the event loop blocks only to compact.
    expect(syncNow).toBeLessThanOrEqual(4);
    expect(syncAsync).toBeLessThan(400);
    expect(await c2.fetchCursor("cur", "one", 0)).toBe(299);
  });
});
