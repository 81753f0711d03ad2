// The JetStream driver end to end, on real nats-server processes: what a plain NATS client
// sees, exactly once across a forced reconnect and a second writer, strict order from two
// worker threads, and a 3-node R3 cluster losing its stream leader mid-production.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { connect as natsConnect, type JsMsg } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Driver, Ordering, type EventFuture } from "../dist/src/index.js";
import { connectDriver, encodeRecords, iterateRecords, type LogDriver } from "../dist/src/internal.js";
import { CLI } from "./helpers.js";
import { startNatsCluster, startNatsServer, type NatsCluster } from "./helpers/nats.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cli = async (...args: string[]) => (await promisify(execFile)(process.execPath, [CLI, ...args])).stdout;
const enc = new TextEncoder();

/** Every stored event of a partition, read to the end with the driver's reader. */
async function readAll(log: LogDriver, topic: string, partition: number) {
  const out: { id: number; md: { i: number; p?: number } }[] = [];
  for await (const batch of log.read({ topic, partition, start: "earliest", follow: false })) {
    let k = 0;
    for (const r of iterateRecords(batch.records, batch.count)) {
      out.push({ id: batch.ids ? batch.ids[k]! : batch.firstEventId + k, md: JSON.parse(Buffer.from(r.metadata).toString("utf8")) });
      k++;
    }
  }
  return out;
}

/** Checks a partition holds each acknowledged event once, at its ID, in push order. */
function checkPartition(stored: { id: number; md: { i: number } }[], acked: Map<number, number>, partition: number) {
  const seen = new Set<number>();
  let last = -1;
  let outOfOrder = 0;
  for (const e of stored) {
    expect(seen.has(e.md.i), `event ${e.md.i} stored twice in partition ${partition}`).toBe(false);
    seen.add(e.md.i);
    if (e.md.i < last) outOfOrder++;
    last = e.md.i;
  }
  expect(outOfOrder, `events out of push order in partition ${partition}`).toBe(0);
  const byIndex = new Map(stored.map((e) => [e.md.i, e.id]));
  let lost = 0;
  for (const [i, id] of acked) if (byIndex.get(i) !== id) lost++;
  expect(lost, `acknowledged events of partition ${partition} missing or at another ID`).toBe(0);
}

/**
 * Reads every partition back and checks it against the futures: each acknowledged event
 * once, at its ID, in push order; IDs 0, 1, 2, … Events of another writer (`i` < 0) count
 * as foreign and are left out of the comparison.
 */
async function verifyTopic(url: string, topic: string, partitions: number, futures: EventFuture[]) {
  const log = await connectDriver(url);
  let mine = 0;
  let foreign = 0;
  try {
    for (let p = 0; p < partitions; p++) {
      const stored = await readAll(log, topic, p);
      expect(stored.map((e) => e.id)).toEqual(stored.map((_, k) => k));
      const own = stored.filter((e) => e.md.i >= 0);
      foreign += stored.length - own.length;
      mine += own.length;
      const acked = new Map<number, number>();
      futures.forEach((f, i) => f.partition === p && acked.set(i, f.id!));
      expect(own).toHaveLength(acked.size);
      checkPartition(own, acked, p);
    }
  } finally {
    await log.close();
  }
  return { mine, foreign };
}

describe("JetStream driver, single node", () => {
  let server: NatsCluster;
  let driver: Driver;
  beforeAll(async () => {
    server = await startNatsServer();
    driver = await Driver.connect(server.url);
  });
  afterAll(async () => {
    await driver?.close();
    await server?.stop();
  });

  it("stores one message per event that a plain nats.js client reads: record payload, message ID header", async () => {
    await driver.createTopic("plain.read", { partitions: 2 });
    const topic = await driver.openTopic("plain.read");
    const producer = topic.producer({ name: "plain" });
    const futures = Array.from({ length: 50 }, (_, i) => producer.push({ i }, Uint8Array.of(i, 255 - i), { partition: i % 2 }));
    await producer.close();
    const ids = await Promise.all(futures);

    // nats.js v2, knowing only the README's mapping: stream TRIB_<topic with = for .>_<p>, subject tributary.<…>.<p>.
    const nc = await natsConnect({ servers: server.nodes[0]!.address });
    try {
      const js = nc.jetstream();
      const consumer = await js.consumers.get("TRIB_plain=read_1");
      const messages: JsMsg[] = [];
      for await (const m of await consumer.fetch({ max_messages: 25, expires: 2000 })) messages.push(m);
      expect(messages).toHaveLength(25);
      messages.forEach((m, k) => {
        const i = 2 * k + 1;
        expect(m.subject).toBe("tributary.plain=read.1");
        expect(m.seq - 1).toBe(ids[i]); // event ID = stream sequence − 1
        const view = new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength);
        const mdLength = view.getUint32(0, true);
        const dataLength = view.getUint32(4, true);
        expect(JSON.parse(Buffer.from(m.data.subarray(8, 8 + mdLength)).toString())).toEqual({ i });
        expect([...m.data.subarray(8 + mdLength, 8 + mdLength + dataLength)]).toEqual([i, 255 - i]);
        expect(m.headers?.get("Nats-Msg-Id")).toMatch(new RegExp(`^[A-Za-z0-9_-]{22}:1:\\d+:\\d+$`));
      });
    } finally {
      await nc.close();
    }
  });

  it("stores keys and headers with the events: in the record for tributary, as message headers for any NATS client", async () => {
    await driver.createTopic("keyed", { partitions: 1 });
    const topic = await driver.openTopic("keyed");
    const producer = topic.producer({ threadPool: driver.makeThreadPool(1) });
    producer.push({ i: 0 }, undefined, { key: "user 7/é", headers: { trace: "t-1", "odd name": "a\r\nb%" } });
    producer.push({ i: 1 });
    await producer.close();
    const events = [];
    for await (const e of topic.consumer({ name: "k", follow: false })) events.push(e);
    expect(events.map((e) => [e.key, e.headers && { ...e.headers }])).toEqual([
      ["user 7/é", { trace: "t-1", "odd name": "a\r\nb%" }],
      [undefined, undefined],
    ]);
    const nc = await natsConnect({ servers: server.nodes[0]!.address });
    try {
      const consumer = await nc.jetstream().consumers.get("TRIB_keyed_0");
      const messages: JsMsg[] = [];
      for await (const m of await consumer.fetch({ max_messages: 2, expires: 2000 })) messages.push(m);
      expect(decodeURIComponent(messages[0]!.headers!.get("Tributary-Key"))).toBe("user 7/é");
      expect(messages[0]!.headers!.get("Tributary-H-trace")).toBe("t-1");
      expect(decodeURIComponent(messages[0]!.headers!.get("Tributary-H-odd%20name"))).toBe("a\r\nb%");
      expect(messages[1]!.headers!.get("Tributary-Key")).toBe("");
    } finally {
      await nc.close();
    }
  });

  it("stores every event once, in push order, across a server restart (forced reconnect and re-sent batches)", async () => {
    await driver.createTopic("restart", { partitions: 2 });
    const topic = await driver.openTopic("restart");
    const producer = topic.producer({ name: "restart", batchSize: 200, maxNumBatches: 4 });
    const futures: EventFuture[] = [];
    const total = 20_000;
    let killed = false;
    for (let i = 0; i < total; i++) {
      futures.push(producer.push({ i }, undefined, { partition: i % 2 }));
      if (i === 6000) {
        // Kill and restart the node under the producer: its connection drops with batches in flight.
        await futures[0];
        killed = producer.pending > 0;
        await server.nodes[0]!.kill();
        await server.nodes[0]!.start();
      }
      if (!producer.hasCapacity) await producer.ready();
      if (i % 500 === 0) await sleep(2);
    }
    expect(killed).toBe(true);
    await producer.flush();
    const stats = await producer.stats();
    await producer.close();
    expect(futures.every((f) => f.completed && !f.error)).toBe(true);
    expect(stats.transport!.reconnects).toBeGreaterThan(0);
    expect(await verifyTopic(server.url, "restart", 2, futures)).toEqual({ mine: total, foreign: 0 });
  });

  it("keeps its events in order and once when another writer publishes into the same partition (chain resync)", async () => {
    await driver.createTopic("two.writers", { partitions: 1 });
    const topic = await driver.openTopic("two.writers");
    const producer = topic.producer({ name: "w1", batchSize: 100, maxNumBatches: 4 });
    const nc = await natsConnect({ servers: server.nodes[0]!.address });
    const futures: EventFuture[] = [];
    try {
      const js = nc.jetstream();
      for (let i = 0; i < 5000; i++) {
        futures.push(producer.push({ i }));
        // A foreign writer's event (a valid record) lands between tributary's batches.
        if (i % 500 === 250) await js.publish("tributary.two=writers.0", encodeRecords([{ metadata: enc.encode(JSON.stringify({ i: -1 })) }]));
        if (i % 250 === 0) await sleep(1);
      }
      await producer.close();
    } finally {
      await nc.close();
    }
    expect(futures.every((f) => f.completed && !f.error)).toBe(true);
    expect(await verifyTopic(server.url, "two.writers", 1, futures)).toEqual({ mine: 5000, foreign: 10 });
  });

  it("serves the CLI through the registry: topic, produce (self-verifying) and consume with --broker nats://", async () => {
    const created = JSON.parse(await cli("topic", "create", "cli.topic", "--partitions", "2", "--json", "--broker", server.url));
    expect(created).toMatchObject({ name: "cli.topic", partitions: 2, replicas: 1 });
    expect(await cli("demo", "--events", "3000", "--threads", "0", "--broker", server.url)).toMatch(/verified: 3,000 events, every partition in push order, IDs contiguous/);
    const topic = await driver.openTopic("cli.topic");
    const producer = topic.producer({ name: "cli" });
    await Promise.all(Array.from({ length: 4 }, (_, i) => producer.push({ i }, undefined, { partition: 1, ...(i === 3 ? { key: "k3", headers: { h: "v" } } : {}) })));
    await producer.close();
    const lines = (await cli("consume", "cli.topic", "--partition", "1", "--from", "2", "--broker", server.url)).trim().split("\n");
    expect(lines.map((l) => JSON.parse(l)).map((e: { id: number; key?: string; headers?: object; metadata: { i: number } }) => [e.id, e.metadata.i, e.key, e.headers])).toEqual([
      [2, 2, undefined, undefined],
      [3, 3, "k3", { h: "v" }],
    ]);
  });

  it("keeps strict per-partition push order with 2 worker threads and 100,000 events", async () => {
    await driver.createTopic("strict", { partitions: 4, partitionSelector: "key-hash" });
    const topic = await driver.openTopic("strict");
    const pool = driver.makeThreadPool(2);
    const producer = topic.producer({ name: "strict", threadPool: pool, ordering: Ordering.Strict });
    const total = 100_000;
    const futures: EventFuture[] = [];
    for (let i = 0; i < total; i++) {
      futures.push(producer.push({ i }, undefined, { key: `k${i % 101}` }));
      if (!producer.hasCapacity) await producer.ready();
    }
    await producer.close();
    await pool.close();
    expect(futures.every((f) => f.completed && !f.error)).toBe(true);
    expect(await verifyTopic(server.url, "strict", 4, futures)).toEqual({ mine: total, foreign: 0 });
  });
});

describe("JetStream driver, 3-node cluster with replicas 3", () => {
  let cluster: NatsCluster;
  beforeAll(async () => {
    cluster = await startNatsCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("loses, duplicates and reorders nothing when the stream leader is killed mid-production; a following consumer carries on", async () => {
    const driver = await Driver.connect(cluster.url);
    try {
      const description = await driver.createTopic("failover", { partitions: 2, replicas: 3 });
      expect(description.replicas).toBe(3);
      expect((await driver.describeTopic("failover")).replicas).toBe(3);
      const topic = await driver.openTopic("failover");

      // The leader of partition 0's stream, asked of JetStream with a plain client.
      const nc = await natsConnect({ servers: cluster.nodes.map((n) => n.address) });
      const info = await (await nc.jetstreamManager()).streams.info("TRIB_failover_0");
      await nc.close();
      expect(info.config.num_replicas).toBe(3);
      const victim = cluster.nodes.find((n) => n.name === info.cluster?.leader)!;
      expect(victim).toBeDefined();

      const consumer = topic.consumer({ name: "follower", start: "earliest" });
      const consumed: { partition: number; id: number; i: number }[] = [];
      const consuming = (async () => {
        for await (const ev of consumer) consumed.push({ partition: ev.partition, id: ev.id, i: (ev.metadata as { i: number }).i });
      })();

      const producer = topic.producer({ name: "failover", maxNumBatches: 4 });
      const futures: EventFuture[] = [];
      const total = 30_000;
      for (let i = 0; i < total; i++) {
        futures.push(producer.push({ i }, undefined, { partition: i % 2 }));
        if (i === 8000) {
          await futures[0]; // production is under way: 22,000 more events follow the kill
          void victim.kill();
        }
        if (!producer.hasCapacity) await producer.ready();
        if (i % 500 === 0) await sleep(2);
      }
      await producer.close();
      // Every future settled; with the default 30 s delivery timeout, none failed.
      expect(futures.every((f) => f.completed)).toBe(true);
      expect(futures.filter((f) => f.error).map((f) => f.error!.message).slice(0, 3)).toEqual([]);

      expect(await verifyTopic(cluster.url, "failover", 2, futures)).toEqual({ mine: total, foreign: 0 });
      // The consumer that read through the kill got every event, once, in order.
      const deadline = Date.now() + 30_000;
      while (consumed.length < total && Date.now() < deadline) await sleep(100);
      await consumer.close();
      await consuming;
      expect(consumed).toHaveLength(total);
      for (const p of [0, 1]) {
        const mine = consumed.filter((e) => e.partition === p);
        expect(mine.map((e) => e.id)).toEqual(mine.map((_, k) => k));
        expect(mine.every((e, k) => k === 0 || e.i > mine[k - 1]!.i)).toBe(true);
      }
    } finally {
      await driver.close();
    }
  }, 120_000);
});
