/**
 * A seeded wire fuzzer: mutated messages for every RPC against a broker process. Every
 * call must end with a status (a follow Read that decodes as valid may keep streaming;
 * it is cancelled), every refusal must carry a typed tributary error code, nothing may
 * come back INTERNAL or UNKNOWN, the broker must stay up with bounded memory and serve
 * a normal append and read afterwards.
 *
 * CI runs FUZZ_COUNT=2000 mutations per RPC (the default); `npm run fuzz` runs more.
 * FUZZ_SEED picks another sequence; a failure prints the seed and the message (hex).
 */
import grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient } from "../dist/src/drivers/tributary/broker-client.js";
import { batch, readOutcome, spawnChildBroker, type ChildBroker } from "./broker-helpers.js";
import { removeDir, tempDir } from "./helpers.js";
import { callAppend, callRead, callUnary, encode, messageType, rawClient, type Outcome, type RawStub } from "./wire-client.js";

const COUNT = Number(process.env.FUZZ_COUNT ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x7a1b);
const CONCURRENCY = 24;
/** A call without a status within this long counts as unanswered. */
const DEADLINE_MS = 10_000;

/** mulberry32: small, seedable, good enough to pick mutations. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}
type Rng = ReturnType<typeof prng>;

const longVarint = (value: number): Buffer => {
  const out: number[] = [];
  let v = value;
  for (let i = 0; i < 9; i++) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(0);
  return Buffer.from(out);
};

/** One to three mutations of `base`: bit flips, byte changes, cuts, insertions, splices, long varints, stray fields. */
function mutate(rng: Rng, base: Buffer, others: Buffer[]): Buffer {
  let b = Buffer.from(base);
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const at = b.byteLength ? rng.int(b.byteLength) : 0;
    switch (rng.int(9)) {
      case 0:
        if (b.byteLength) b[at] ^= 1 << rng.int(8);
        break;
      case 1:
        if (b.byteLength) b[at] = rng.pick([0x00, 0x01, 0x7f, 0x80, 0xff, rng.int(256)]);
        break;
      case 2:
        b = b.subarray(0, at);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rng.int(8))]);
        break;
      case 4:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + rng.int(6) }, () => rng.int(256))), b.subarray(at)]);
        break;
      case 5:
        b = Buffer.concat([b, rng.pick(others)]);
        break;
      case 6: // a field with a random tag and a long varint value
        b = Buffer.concat([b, Buffer.from([rng.int(128)]), longVarint(rng.int(2 ** 31))]);
        break;
      case 7: // a length-delimited field claiming more than there is
        b = Buffer.concat([b, Buffer.from([(1 + rng.int(9)) * 8 + 2, 0x80 + rng.int(128), rng.int(128)])]);
        break;
      default:
        b = Buffer.from(Array.from({ length: rng.int(40) }, () => rng.int(256)));
    }
  }
  return b;
}

/** Values that are well-formed on the wire but hostile to the broker's logic. */
const HOSTILE = {
  string: ["", ".", "..", "../x", "fz", "fz-1", "__proto__", "constructor", "toString", "a".repeat(300), "\u00e9v\u00e9nement", "x\u0000y", "fz/../fz"],
  uint32: [0, 1, 2, 7, 8, 9, 1024, 2 ** 31, 2 ** 32 - 1],
  uint64: [0, 1, 3, 2 ** 32, 2 ** 53 - 1],
  double: [0, -1, 1e308, 5e-324, Date.now()],
  bool: [true, false],
};

/** A message of the right shape with one to three fields set to hostile values (oneofs too). */
function hostile(rng: Rng, typeName: string, base: Record<string, unknown>): Buffer {
  const type = messageType(typeName);
  const value: Record<string, unknown> = { ...base };
  for (let n = type.fieldsArray.length ? 1 + rng.int(3) : 0; n > 0; n--) {
    const field = rng.pick(type.fieldsArray);
    const pool = HOSTILE[field.type as keyof typeof HOSTILE];
    if (pool) value[field.name] = field.type === "uint64" ? String(rng.pick(pool)) : rng.pick(pool as unknown[]);
    else if (field.type === "bytes") value[field.name] = rng.next() < 0.5 ? batch("h", 1 + rng.int(3), rng.int(64)) : Buffer.from(Array.from({ length: rng.int(64) }, () => rng.int(256)));
  }
  return encode(typeName, value);
}

const OK = grpc.status.OK;
/** Every status a fuzzed call may end with; INTERNAL, UNKNOWN and DEADLINE_EXCEEDED may not. */
const ALLOWED = new Set([
  OK,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.ALREADY_EXISTS,
  grpc.status.OUT_OF_RANGE,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.FAILED_PRECONDITION,
]);

interface Tally {
  calls: number;
  byStatus: Record<string, number>;
  follow: number;
  problems: string[];
}

/** True when `message` is a Read that asks to follow (decoded leniently): it may stream on. */
function asksToFollow(message: Buffer): boolean {
  try {
    return messageType("ReadRequest").decode(message).toJSON().follow === true;
  } catch {
    return false;
  }
}

function judge(tally: Tally, method: string, message: Buffer, out: Outcome & { cancelledByUs?: boolean }): void {
  tally.calls++;
  const following = out.cancelledByUs === true && asksToFollow(message);
  const name = following ? "following" : out.cancelledByUs ? "no status" : (grpc.status[out.code] ?? String(out.code));
  tally.byStatus[name] = (tally.byStatus[name] ?? 0) + 1;
  if (following) {
    tally.follow++;
    return;
  }
  const problem = out.cancelledByUs
    ? "no status (a Read that does not follow)"
    : !ALLOWED.has(out.code)
    ? `${name} ${out.details}`
    : out.code !== OK && !out.errorCode
      ? `status ${name} without a tributary error code: ${out.details}`
      : undefined;
  if (problem && tally.problems.length < 20) tally.problems.push(`${method} seed ${SEED}: ${problem}; message ${message.toString("hex").slice(0, 200)}`);
}

let broker: ChildBroker;
let dir: string;
let raw: RawStub;

beforeAll(async () => {
  dir = tempDir();
  // Small quotas so that fuzzed creates stay cheap; the broker must refuse past them, not fail.
  broker = await spawnChildBroker({ dir, limits: { maxTopics: 100, maxPartitions: 8, maxTotalPartitions: 400, maxOpenStreams: 256 } });
  raw = rawClient(broker.url);
});

/** Gives every RPC the same ground: topic "fz" with events (a fuzzed DeleteTopic may have removed it). */
async function prepare(): Promise<void> {
  const client = new BrokerClient(broker.url);
  try {
    await client.createTopic({ name: "fz", partitions: 2 }).catch((err) => {
      if (err.code !== "TOPIC_EXISTS") throw err;
    });
    await client.openAppendStream().append({ topic: "fz", partition: 0, producerId: "p", batchSeq: 0, count: 5, records: batch("seed", 5, 16) });
  } finally {
    client.close();
  }
}
afterAll(async () => {
  raw?.close();
  await broker?.stop();
  removeDir(dir);
});

/** Runs `count` calls, `CONCURRENCY` at a time. */
async function pool(count: number, call: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) await call(next++);
  }));
}

describe("wire fuzzer", () => {
  it(`answers ${COUNT} mutated messages per RPC with a typed status and stays healthy`, async () => {
    const rng = prng(SEED);
    const spec = (i: number) => ({ module: "json", exportName: `e${i}`, configJson: i % 2 ? "{}" : "" });
    const objects: Record<string, [string, Record<string, unknown>]> = {
      createTopic: ["CreateTopicRequest", { name: "fz-h", partitions: 1 }],
      describeTopic: ["TopicRef", { name: "fz" }],
      listTopics: ["ListTopicsRequest", {}],
      deleteTopic: ["TopicRef", { name: "fz-h" }],
      read: ["ReadRequest", { topic: "fz", partition: 0, earliest: true }],
      commitCursor: ["CommitCursorRequest", { topic: "fz", consumer: "c", partition: 0, nextOffset: 1 }],
      fetchCursor: ["FetchCursorRequest", { topic: "fz", consumer: "c", partition: 0 }],
      append: ["AppendRequest", { topic: "fz", partition: 0, producerId: "h", batchSeq: 0, count: 1, records: batch("h", 1) }],
    };
    const bases: Record<string, Buffer[]> = {
      createTopic: [0, 1, 2].map((i) => encode("CreateTopicRequest", { name: `fz-${i}`, partitions: 1 + i, validator: spec(i), serializer: spec(i + 1) })),
      describeTopic: [encode("TopicRef", { name: "fz" }), encode("TopicRef", { name: "fz-1" })],
      listTopics: [Buffer.alloc(0)],
      deleteTopic: [encode("TopicRef", { name: "fz-0" }), encode("TopicRef", { name: "fz-2" })],
      read: [
        encode("ReadRequest", { topic: "fz", partition: 0, earliest: true, maxEvents: 3 }),
        encode("ReadRequest", { topic: "fz", partition: 1, offset: 2 }),
        encode("ReadRequest", { topic: "fz", partition: 0, timestampMs: 1000 }),
      ],
      commitCursor: [encode("CommitCursorRequest", { topic: "fz", consumer: "c", partition: 0, nextOffset: 3, generation: 0 })],
      fetchCursor: [encode("FetchCursorRequest", { topic: "fz", consumer: "c", partition: 1, claim: true }), encode("FetchCursorRequest", { topic: "fz", consumer: "__proto__", partition: 0 })],
      append: [
        encode("AppendRequest", { topic: "fz", partition: 1, producerId: "fz", batchSeq: 1, count: 2, records: batch("a", 2, 8) }),
        encode("AppendRequest", { topic: "fz", partition: 0, producerId: "fy", batchSeq: 7, count: 1, records: batch("b", 1), topicId: "0011223344556677" }),
      ],
    };
    const all = Object.values(bases).flat();
    const tallies: Record<string, Tally> = {};
    const rssBefore = broker.rss();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, broker.rss())), 100);
    try {
      for (const [method, messages] of Object.entries(bases)) {
        const tally: Tally = (tallies[method] = { calls: 0, byStatus: {}, follow: 0, problems: [] });
        await prepare();
        // Draw the messages first, so the sequence depends on the seed only, not on timing.
        // Half damaged bytes, half well-formed messages with hostile values.
        const [typeName, object] = objects[method]!;
        const draw = (): Buffer => (rng.next() < 0.5 ? mutate(rng, rng.pick(messages), all) : hostile(rng, typeName, object));
        const fuzzed = Array.from({ length: COUNT }, draw);
        const appendBatches = Array.from({ length: COUNT }, () => Array.from({ length: 1 + rng.int(3) }, () => (rng.next() < 0.2 ? rng.pick(messages) : draw())));
        await pool(COUNT, async (i) => {
          const msg = fuzzed[i]!;
          if (method === "read") judge(tally, method, msg, await callRead(raw, msg, DEADLINE_MS, 1500));
          else if (method === "append") judge(tally, method, Buffer.concat(appendBatches[i]!), await callAppend(raw, appendBatches[i]!, DEADLINE_MS));
          else judge(tally, method, msg, await callUnary(raw, method, msg, DEADLINE_MS));
        });
      }
    } finally {
      clearInterval(sampler);
    }
    console.log(
      `wire fuzzer, seed ${SEED}, ${COUNT} per RPC: ` +
        Object.entries(tallies).map(([m, t]) => `${m} ${JSON.stringify(t.byStatus)}`).join("; ") +
        `; broker RSS ${Math.round(rssBefore / 2 ** 20)} → peak ${Math.round(rssPeak / 2 ** 20)} MiB`,
    );
    expect(Object.values(tallies).flatMap((t) => t.problems)).toEqual([]);
    for (const t of Object.values(tallies)) expect(t.calls).toBe(COUNT);
    // Follow reads are the only calls allowed to outlive the fuzzer's patience.
    expect(tallies.read!.follow).toBeLessThan(COUNT / 4);
    expect(broker.child.exitCode).toBeNull();
    expect(rssPeak).toBeLessThan(rssBefore + 256 * 2 ** 20);

    // Healthy: a normal append and read work.
    const client = new BrokerClient(broker.url);
    try {
      await client.createTopic({ name: "after-fuzz", partitions: 1 }).catch(async (err) => {
        if (err.code !== "QUOTA_EXCEEDED") throw err;
        await client.deleteTopic("fz-0").catch(() => {});
        await client.deleteTopic("fz-1").catch(() => {});
        await client.createTopic({ name: "after-fuzz", partitions: 1 });
      });
      const ack = await client.openAppendStream().append({ topic: "after-fuzz", partition: 0, producerId: "h", batchSeq: 0, count: 3, records: batch("h", 3) });
      expect(ack).toMatchObject({ firstEventId: 0, count: 3 });
      expect((await readOutcome(client, "after-fuzz", 0)).events.map((e) => e.metadata)).toEqual(['{"k":"h-0"}', '{"k":"h-1"}', '{"k":"h-2"}']);
      expect(messageType("TopicInfo").decode(encode("TopicInfo", { name: "x" }))).toBeTruthy();
    } finally {
      client.close();
    }
  });
});
