// The driver conformance suite: the behaviours every log driver must have, whatever its
// backend. Each driver's test file calls `driverConformance` with a way to connect a
// fresh driver to a real, running log.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  BrokerError,
  connectDriver,
  encodeRecords,
  iterateRecords,
  loadAppender,
  type AppendAck,
  type Appender,
  type LogDriver,
  type PipelineSpecs,
  type ReadBatch,
  type ReadRequest,
  type TopicDescription,
} from "../../dist/src/internal.js";

export interface ConformanceTarget {
  /** A driver connected to a running log (fresh for each test). */
  connect(): Promise<LogDriver>;
  /** A URL of this driver's scheme where nothing listens. */
  unreachableUrl: string;
  /** Replicas the log accepts for a new topic (1 unless it replicates). */
  replicas?: number;
}

const PIPELINE: PipelineSpecs = {
  validator: { module: "tributary/validators/json-schema", export: "default", config: { schema: { type: "object" } } },
  partitionSelector: { module: "tributary/selectors/key-hash", export: "default" },
  serializer: { module: "./plugins/custom.js", export: "Custom", config: { level: 3, tags: ["a", "b"] } },
};

const enc = new TextEncoder();

/** Events as the pipeline emits them: metadata bytes and optional data. */
function events(prefix: string, n: number, withData = true): { metadata: Uint8Array; data?: Uint8Array }[] {
  return Array.from({ length: n }, (_, i) => ({
    metadata: enc.encode(JSON.stringify({ k: `${prefix}-${i}` })),
    data: withData ? Uint8Array.from({ length: (i % 5) * 7 }, (_, j) => (i * 31 + j) & 0xff) : undefined,
  }));
}

/** Reads a partition until `n` events arrived or the stream ended; `follow` streams are cancelled. */
async function read(log: LogDriver, request: ReadRequest, n = Infinity, timeoutMs = 5000): Promise<{ id: number; time: number; metadata: string; data: Uint8Array }[]> {
  const out: { id: number; time: number; metadata: string; data: Uint8Array }[] = [];
  const reader = log.read(request);
  const timer = setTimeout(() => reader.cancel(), timeoutMs);
  try {
    for await (const batch of reader as AsyncIterable<ReadBatch>) {
      let i = 0;
      for (const r of iterateRecords(batch.records, batch.count)) {
        out.push({
          id: batch.ids ? batch.ids[i]! : batch.firstEventId + i,
          time: batch.timestamps ? batch.timestamps[i]! : batch.timestampMs,
          metadata: Buffer.from(r.metadata).toString("utf8"),
          data: Uint8Array.from(r.data),
        });
        i++;
      }
      if (out.length >= n) break;
    }
  } finally {
    clearTimeout(timer);
    reader.cancel();
  }
  return out;
}

/** The IDs an ack gives its events. */
function ackIds(ack: AppendAck, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (ack.ids ? ack.ids[i]! : ack.firstEventId + i));
}

async function failure(promise: Promise<unknown>): Promise<BrokerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BrokerError);
  return err as BrokerError;
}

export function driverConformance(name: string, target: ConformanceTarget): void {
  describe(`driver conformance: ${name}`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    async function setup(partitions = 2) {
      const log = await target.connect();
      cleanups.push(() => log.close());
      const topic = `conf-${randomUUID().slice(0, 8)}`;
      const description = await log.createTopic(topic, { partitions, replicas: target.replicas ?? 1, pipeline: PIPELINE });
      cleanups.push(async () => void (await log.deleteTopic(topic).catch(() => false)));
      const appender = async (producerId = `p-${randomUUID()}`): Promise<Appender> => {
        const a = await loadAppender(log.appender(description, producerId));
        await a.connect();
        cleanups.push(() => a.close());
        return a;
      };
      return { log, topic, description, appender };
    }

    it("creates, describes, lists and deletes topics, storing the pipeline as given", async () => {
      const { log, topic, description } = await setup(3);
      expect(description).toMatchObject({ name: topic, partitions: 3, replicas: target.replicas ?? 1, pipeline: PIPELINE });
      expect(description.partitionInfo.map((p: { partition: number; nextOffset: number }) => [p.partition, p.nextOffset])).toEqual([[0, 0], [1, 0], [2, 0]]);
      expect(await log.describeTopic(topic)).toMatchObject({ name: topic, partitions: 3, pipeline: PIPELINE });
      expect((await log.listTopics()).map((t: TopicDescription) => t.name)).toContain(topic);
      const exists = await failure(log.createTopic(topic, { partitions: 1, replicas: target.replicas ?? 1, pipeline: PIPELINE }));
      expect(exists).toMatchObject({ code: "TOPIC_EXISTS", retriable: false });
      expect(await log.deleteTopic(topic)).toBe(true);
      expect(await failure(log.describeTopic(topic))).toMatchObject({ code: "UNKNOWN_TOPIC", retriable: false });
      expect((await log.listTopics()).map((t: TopicDescription) => t.name)).not.toContain(topic);
      expect(await log.deleteTopic(topic)).toBe(false);
    });

    it("appends batches and reads them back byte-exact, with IDs rising per partition", async () => {
      const { log, topic, appender } = await setup(2);
      const a = await appender();
      const sent: Record<number, { metadata: Uint8Array; data?: Uint8Array }[]> = { 0: [], 1: [] };
      const acked: Record<number, number[]> = { 0: [], 1: [] };
      for (let seq = 0; seq < 4; seq++) {
        for (const partition of [0, 1]) {
          const evs = events(`p${partition}s${seq}`, 10 + seq * 3, seq !== 2);
          const ack = await a.send({ partition, seq, count: evs.length, records: encodeRecords(evs) });
          expect(ack).toMatchObject({ count: evs.length, duplicate: false });
          sent[partition]!.push(...evs);
          acked[partition]!.push(...ackIds(ack, evs.length));
        }
      }
      for (const partition of [0, 1]) {
        const got = await read(log, { topic, partition, start: "earliest", follow: false });
        expect(got.map((e) => e.id)).toEqual(acked[partition]);
        expect(got.map((e) => e.metadata)).toEqual(sent[partition]!.map((e) => Buffer.from(e.metadata).toString("utf8")));
        got.forEach((e, i) => expect(e.data).toEqual(sent[partition]![i]!.data ?? new Uint8Array(0)));
        for (let i = 1; i < got.length; i++) expect(got[i]!.id).toBeGreaterThan(got[i - 1]!.id);
        if (log.capabilities.contiguousIds) expect(got.map((e) => e.id)).toEqual(got.map((_, i) => i));
      }
      const info = await log.describeTopic(topic);
      expect(info.partitionInfo[0]!.nextOffset).toBeGreaterThan(acked[0]!.at(-1)!);
    });

    it("stores a re-sent batch once and answers it with its original IDs", async () => {
      const { log, topic, appender } = await setup(1);
      const producerId = `dup-${randomUUID()}`;
      const a = await appender(producerId);
      const first = events("a", 5);
      const second = events("b", 7);
      const ack0 = await a.send({ partition: 0, seq: 0, count: 5, records: encodeRecords(first) });
      const ack1 = await a.send({ partition: 0, seq: 1, count: 7, records: encodeRecords(second) });
      // A reconnect (as after a failure), then the same batches again, as delivery re-sends them.
      await a.connect();
      const again1 = await a.send({ partition: 0, seq: 1, count: 7, records: encodeRecords(second) });
      expect(again1).toMatchObject({ duplicate: true, count: 7 });
      expect(ackIds(again1, 7)).toEqual(ackIds(ack1, 7));
      // A second appender of the same producer (a restarted transport thread) is recognised too.
      const b = await appender(producerId);
      const again0 = await b.send({ partition: 0, seq: 0, count: 5, records: encodeRecords(first) });
      expect(again0).toMatchObject({ duplicate: true });
      expect(ackIds(again0, 5)).toEqual(ackIds(ack0, 5));
      const got = await read(log, { topic, partition: 0, start: "earliest", follow: false });
      expect(got.map((e) => e.metadata)).toEqual([...first, ...second].map((e) => Buffer.from(e.metadata).toString("utf8")));
    });

    it("reads from earliest, latest, an offset and a time; follows, or stops at the end", async () => {
      const { log, topic, appender } = await setup(1);
      const a = await appender();
      const ack = await a.send({ partition: 0, seq: 0, count: 20, records: encodeRecords(events("x", 20)) });
      const ids = ackIds(ack, 20);
      expect(await read(log, { topic, partition: 0, start: "earliest", follow: false })).toHaveLength(20);
      const fromOffset = await read(log, { topic, partition: 0, start: { offset: ids[12]! }, follow: false });
      expect(fromOffset.map((e) => e.id)).toEqual(ids.slice(12));
      expect(await read(log, { topic, partition: 0, start: "latest", follow: false }, Infinity, 2000)).toEqual([]);
      expect((await read(log, { topic, partition: 0, start: "earliest", follow: false, maxEvents: 5 })).map((e) => e.id)).toEqual(ids.slice(0, 5));

      await new Promise((r) => setTimeout(r, 20));
      const t = Date.now();
      await new Promise((r) => setTimeout(r, 20));
      // Follow from latest: sees only what is appended after the read started.
      const latest = read(log, { topic, partition: 0, start: "latest", follow: true }, 3);
      const earliest = read(log, { topic, partition: 0, start: "earliest", follow: true }, 23);
      await new Promise((r) => setTimeout(r, 300));
      const later = await a.send({ partition: 0, seq: 1, count: 3, records: encodeRecords(events("y", 3)) });
      const laterIds = ackIds(later, 3);
      expect((await latest).map((e) => e.id)).toEqual(laterIds);
      expect((await earliest).map((e) => e.id)).toEqual([...ids, ...laterIds]);
      const byTime = await read(log, { topic, partition: 0, start: { time: t }, follow: false });
      expect(byTime.map((e) => e.id)).toEqual(laterIds);
      expect(byTime.every((e) => e.time >= t)).toBe(true);
      // A follow stream that is cancelled ends without an error.
      const reader = log.read({ topic, partition: 0, start: "latest", follow: true });
      setTimeout(() => reader.cancel(), 100);
      const seen: unknown[] = [];
      for await (const batch of reader as AsyncIterable<ReadBatch>) seen.push(batch);
      expect(seen).toEqual([]);
    });

    it("stores consumer cursors per name and partition", async () => {
      const { log, topic } = await setup(2);
      expect(await log.fetchCursor(topic, "c1", 0)).toBeUndefined();
      await log.commitCursor(topic, "c1", 0, 17);
      await log.commitCursor(topic, "c1", 1, 3);
      await log.commitCursor(topic, "c2", 0, 5);
      expect(await log.fetchCursor(topic, "c1", 0)).toBe(17);
      expect(await log.fetchCursor(topic, "c1", 1)).toBe(3);
      expect(await log.fetchCursor(topic, "c2", 0)).toBe(5);
      expect(await log.fetchCursor(topic, "c2", 1)).toBeUndefined();
      await log.commitCursor(topic, "c1", 0, 40);
      expect(await log.fetchCursor(topic, "c1", 0)).toBe(40);
      expect(await failure(log.commitCursor(`no-${topic}`, "c1", 0, 1))).toMatchObject({ code: "UNKNOWN_TOPIC", retriable: false });
    });

    it("fences the cursor commits of an instance a newer one replaced (claims raise a generation per partition)", async () => {
      const { log, topic } = await setup(2);
      if (!log.claimCursor) throw new Error("this driver does not fence cursors");
      // Without claims, commits work as before.
      await log.commitCursor(topic, "f", 0, 5);
      const a = await log.claimCursor(topic, "f", 0);
      expect(a).toMatchObject({ nextOffset: 5 });
      await log.commitCursor(topic, "f", 0, 9, a.generation);
      const b = await log.claimCursor(topic, "f", 0);
      expect(b).toEqual({ nextOffset: 9, generation: a.generation + 1 });
      expect(await failure(log.commitCursor(topic, "f", 0, 7, a.generation))).toMatchObject({ code: "FENCED", retriable: false });
      expect(await failure(log.commitCursor(topic, "f", 0, 7))).toMatchObject({ code: "FENCED" });
      expect(await failure(log.commitCursor(topic, "f", 0, 7, b.generation + 5))).toMatchObject({ code: "FENCED" });
      await log.commitCursor(topic, "f", 0, 12, b.generation);
      expect(await log.fetchCursor(topic, "f", 0)).toBe(12);
      // Per partition: a claim of partition 1 fences nobody on partition 0.
      const other = await log.claimCursor(topic, "f", 1);
      expect(other.nextOffset).toBeUndefined();
      await log.commitCursor(topic, "f", 1, 3, other.generation);
      await log.commitCursor(topic, "f", 0, 13, b.generation);
      expect([await log.fetchCursor(topic, "f", 0), await log.fetchCursor(topic, "f", 1)]).toEqual([13, 3]);
      // Claims racing each other each get a generation of their own.
      const racing = await Promise.all(Array.from({ length: 5 }, () => log.claimCursor!(topic, "race", 0)));
      expect(new Set(racing.map((r) => r.generation)).size).toBe(5);
    });

    it("fails with typed errors that say whether a retry may help", async () => {
      const { log, topic, description, appender } = await setup(1);
      const noTopic = await failure(read(log, { topic: `no-${topic}`, partition: 0, start: "earliest", follow: true }));
      expect(noTopic).toMatchObject({ code: "UNKNOWN_TOPIC", retriable: false });
      const noPartition = await failure(read(log, { topic, partition: 7, start: "earliest", follow: false }));
      expect(noPartition).toMatchObject({ code: "BAD_PARTITION", retriable: false });
      const a = await appender();
      const tooBig = new Uint8Array(log.capabilities.maxEventBytes + 1);
      const big = await failure(a.send({ partition: 0, seq: 0, count: 1, records: encodeRecords([{ metadata: enc.encode("{}"), data: tooBig }]) }));
      expect(big.retriable).toBe(false);
      expect(["EVENT_TOO_LARGE", "BATCH_TOO_LARGE"]).toContain(big.code);
      await log.deleteTopic(topic);
      const gone = await loadAppender(log.appender(description, "late"));
      cleanups.push(() => gone.close());
      await gone.connect();
      expect(await failure(gone.send({ partition: 0, seq: 0, count: 1, records: encodeRecords(events("z", 1)) }))).toMatchObject({ code: "UNKNOWN_TOPIC", retriable: false });
      const unreachable = await failure(connectDriver(target.unreachableUrl, { timeoutMs: 300 }));
      expect(unreachable).toMatchObject({ code: "UNAVAILABLE", retriable: true });
    });
  });
}
