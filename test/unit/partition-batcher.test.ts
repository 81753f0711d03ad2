import { describe, expect, it } from "vitest";
import { PartitionBatcher, type BatchPolicy, type ReadyBatch } from "../../dist/src/producer/partition-batcher.js";
import { encodeRecords, iterateRecords } from "../../dist/src/core/records.js";
import type { EventFuture } from "../../dist/src/core/future.js";
import { futureAt } from "./support.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A blob of records named `name`, each with `dataBytes` bytes of data, and one future per record. */
let nextIndex = 0;
function part(names: string[], dataBytes = 4): { blob: Uint8Array; futures: EventFuture[] } {
  const blob = encodeRecords(names.map((n) => ({ metadata: enc.encode(n), data: new Uint8Array(dataBytes).fill(n.length) })));
  return { blob, futures: names.map(() => futureAt(nextIndex++)) };
}

/** The event names a batch carries, decoded from its blobs sent back to back. */
function namesOf(batch: ReadyBatch): string[] {
  const joined = new Uint8Array(batch.bytes);
  let at = 0;
  for (const p of batch.parts) {
    joined.set(p, at);
    at += p.byteLength;
  }
  expect(at).toBe(batch.bytes);
  const out: string[] = [];
  let used = 0;
  for (const r of iterateRecords(joined, batch.futures.length)) {
    out.push(dec.decode(r.metadata));
    used = r.data.byteOffset + r.data.byteLength - joined.byteOffset;
  }
  // The blobs hold exactly the batch's records: no byte before or after them.
  expect(used).toBe(batch.bytes);
  return out;
}

// lingerMs as the producer's options resolve it: at once for Adaptive, never for fixed n.
const policy = (p: Partial<BatchPolicy>): BatchPolicy => ({
  size: "adaptive",
  maxInFlight: 100,
  maxBatchEvents: 1000,
  maxBatchBytes: 1 << 20,
  lingerMs: p.size === undefined || p.size === "adaptive" ? 0 : Infinity,
  ...p,
});

const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("PartitionBatcher, adaptive", () => {
  it("takes everything queued as one batch when a slot is free", () => {
    const b = new PartitionBatcher(3, policy({}));
    const a = part(["a0", "a1"]);
    const c = part(["c0", "c1", "c2"]);
    const d = part(["d0"]);
    b.enqueue(a.blob, a.futures, 10);
    b.enqueue(c.blob, c.futures, 20);
    b.enqueue(d.blob, d.futures, 30);
    expect(b.queued).toBe(6);
    const out = b.take(false);
    expect(out).toHaveLength(1);
    const [batch] = out as [ReadyBatch];
    expect(batch.partition).toBe(3);
    expect(batch.seq).toBe(0);
    expect(batch.parts).toEqual([a.blob, c.blob, d.blob]);
    expect(batch.futures).toEqual([...a.futures, ...c.futures, ...d.futures]);
    expect(batch.bytes).toBe(a.blob.byteLength + c.blob.byteLength + d.blob.byteLength);
    expect(batch.since).toBe(10);
    expect(namesOf(batch)).toEqual(["a0", "a1", "c0", "c1", "c2", "d0"]);
    expect(b.queued).toBe(0);
    expect(b.inFlight).toBe(1);
    expect(b.take(false)).toEqual([]);
  });

  it("a lone event leaves at once", () => {
    const b = new PartitionBatcher(0, policy({}));
    const a = part(["only"]);
    b.enqueue(a.blob, a.futures);
    const out = b.take(false);
    expect(out.map((x) => x.futures.length)).toEqual([1]);
  });

  it("caps a batch at maxBatchEvents, splitting a blob at a record boundary", () => {
    const b = new PartitionBatcher(0, policy({ maxBatchEvents: 4 }));
    const a = part(names("a", 3));
    const c = part(names("c", 3), 7);
    b.enqueue(a.blob, a.futures);
    b.enqueue(c.blob, c.futures);
    const [first, second, ...rest] = b.take(false);
    expect(rest).toEqual([]);
    expect(first!.futures).toEqual([...a.futures, c.futures[0]]);
    expect(namesOf(first!)).toEqual(["a0", "a1", "a2", "c0"]);
    expect(second!.futures).toEqual(c.futures.slice(1));
    expect(namesOf(second!)).toEqual(["c1", "c2"]);
    expect(first!.bytes + second!.bytes).toBe(a.blob.byteLength + c.blob.byteLength);
  });

  it("has at most maxInFlight batches out; done() frees one slot", () => {
    const b = new PartitionBatcher(0, policy({ maxInFlight: 2 }));
    const push = (n: string) => {
      const p = part([n]);
      b.enqueue(p.blob, p.futures);
    };
    push("e0");
    expect(b.take(false)).toHaveLength(1);
    push("e1");
    expect(b.take(false)).toHaveLength(1);
    expect(b.inFlight).toBe(2);
    push("e2");
    push("e3");
    expect(b.take(false)).toEqual([]); // both slots taken: the events wait and pile up
    expect(b.take(true)).toEqual([]); // a flush does not bypass the slots either
    expect(b.queued).toBe(2);
    b.done();
    expect(b.inFlight).toBe(1);
    const out = b.take(false);
    expect(out).toHaveLength(1);
    expect(namesOf(out[0]!)).toEqual(["e2", "e3"]);
    expect(b.inFlight).toBe(2);
    expect(b.take(false)).toEqual([]);
  });

  it("numbers batches 0, 1, 2, … across takes", () => {
    const b = new PartitionBatcher(5, policy({ maxBatchEvents: 2 }));
    const seqs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const p = part(names(`r${i}-`, 3));
      b.enqueue(p.blob, p.futures);
      for (const batch of b.take(false)) {
        seqs.push(batch.seq);
        b.done();
      }
    }
    // Each round of 3 events leaves as 2 + 1.
    expect(seqs).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe("PartitionBatcher, fixed size", () => {
  it("cuts exactly n events, waits for a full batch, and sends the rest on a partial take", () => {
    const b = new PartitionBatcher(0, policy({ size: 3 }));
    const a = part(["a0", "a1"]);
    b.enqueue(a.blob, a.futures);
    expect(b.take(false)).toEqual([]); // 2 < 3: wait
    const c = part(["c0", "c1", "c2", "c3", "c4"]);
    b.enqueue(c.blob, c.futures);
    const full = b.take(false);
    expect(full.map((x) => x.futures.length)).toEqual([3, 3]);
    expect(namesOf(full[0]!)).toEqual(["a0", "a1", "c0"]);
    expect(namesOf(full[1]!)).toEqual(["c1", "c2", "c3"]);
    expect(full[0]!.futures).toEqual([...a.futures, c.futures[0]]);
    expect(b.queued).toBe(1);
    expect(b.take(false)).toEqual([]);
    const flushed = b.take(true);
    expect(flushed).toHaveLength(1);
    expect(namesOf(flushed[0]!)).toEqual(["c4"]);
    expect(flushed[0]!.futures).toEqual([c.futures[4]]);
    expect(flushed.map((x) => x.seq)).toEqual([2]);
  });

  it("splits a blob at a record boundary: the bytes of both halves are the original records", () => {
    const b = new PartitionBatcher(0, policy({ size: 2 }));
    // Records of different sizes, so a split off by one record would show.
    const blob = encodeRecords([
      { metadata: enc.encode("x0"), data: new Uint8Array([1]) },
      { metadata: enc.encode("x1-long"), data: new Uint8Array([2, 2, 2, 2, 2]) },
      { metadata: enc.encode("x2"), data: new Uint8Array(0) },
    ]);
    const futures = [futureAt(0), futureAt(1), futureAt(2)];
    b.enqueue(blob, futures);
    const [first] = b.take(false);
    expect(first!.parts).toHaveLength(1);
    expect(first!.parts[0]).toEqual(blob.subarray(0, 8 + 2 + 1 + 8 + 7 + 5));
    const records = [...iterateRecords(first!.parts[0]!, 2)].map((r) => [dec.decode(r.metadata), [...r.data]]);
    expect(records).toEqual([
      ["x0", [1]],
      ["x1-long", [2, 2, 2, 2, 2]],
    ]);
    const [rest] = b.take(true);
    expect(rest!.parts[0]).toEqual(blob.subarray(8 + 2 + 1 + 8 + 7 + 5));
    expect([...iterateRecords(rest!.parts[0]!, 1)].map((r) => dec.decode(r.metadata))).toEqual(["x2"]);
  });
});

describe("PartitionBatcher, byte cap", () => {
  it("starts a new batch when the next blob would pass maxBatchBytes", () => {
    const a = part(["a0"], 20);
    const size = a.blob.byteLength; // 8 + 2 + 20 = 30
    const b = new PartitionBatcher(0, policy({ maxBatchBytes: 2 * size + 5 }));
    b.enqueue(a.blob, a.futures);
    for (const n of ["b0", "c0", "d0", "e0"]) {
      const p = part([n], 20);
      b.enqueue(p.blob, p.futures);
    }
    const out = b.take(false);
    expect(out.map(namesOf)).toEqual([["a0", "b0"], ["c0", "d0"], ["e0"]]);
    for (const batch of out) expect(batch.bytes).toBeLessThanOrEqual(2 * size + 5);
  });

  it("splits one blob larger than the cap into runs of records that fit (recordsWithin)", () => {
    const p = part(names("r", 5), 22); // 5 records of 8 + 2 + 22 = 32 bytes
    const b = new PartitionBatcher(0, policy({ maxBatchBytes: 100 }));
    b.enqueue(p.blob, p.futures);
    const out = b.take(false);
    expect(out.map(namesOf)).toEqual([["r0", "r1", "r2"], ["r3", "r4"]]);
    expect(out.map((x) => x.bytes)).toEqual([96, 64]);
    expect(out[0]!.futures).toEqual(p.futures.slice(0, 3));
    expect(out[1]!.futures).toEqual(p.futures.slice(3));
  });

  it("sends a single record above the cap alone rather than never", () => {
    const big = part(["big"], 200);
    const small = part(["s0"], 1);
    const b = new PartitionBatcher(0, policy({ maxBatchBytes: 100 }));
    b.enqueue(big.blob, big.futures);
    b.enqueue(small.blob, small.futures);
    const out = b.take(false);
    expect(out.map(namesOf)).toEqual([["big"], ["s0"]]);
  });

  it("does not add a blob after a split one (the cut stops at the cap)", () => {
    const p = part(names("r", 4), 22); // 4 × 32 bytes
    const q = part(["q0"], 1);
    const b = new PartitionBatcher(0, policy({ maxBatchBytes: 70 }));
    b.enqueue(p.blob, p.futures);
    b.enqueue(q.blob, q.futures);
    const out = b.take(false);
    for (const batch of out) expect(batch.bytes).toBeLessThanOrEqual(70);
    expect(out.flatMap(namesOf)).toEqual(["r0", "r1", "r2", "r3", "q0"]);
  });
});

describe("PartitionBatcher.expire", () => {
  it("returns the futures queued at or before the cutoff, oldest first, and keeps the rest", () => {
    const b = new PartitionBatcher(0, policy({ size: 10 }));
    const p1 = part(["p1a", "p1b"]);
    const p2 = part(["p2"]);
    const p3 = part(["p3"]);
    b.enqueue(p1.blob, p1.futures, 100);
    b.enqueue(p2.blob, p2.futures, 200);
    b.enqueue(p3.blob, p3.futures, 300);
    expect(b.expire(99)).toEqual([]);
    expect(b.expire(200)).toEqual([...p1.futures, ...p2.futures]);
    expect(b.queued).toBe(1);
    const [rest] = b.take(true);
    expect(namesOf(rest!)).toEqual(["p3"]);
    expect(rest!.since).toBe(300);
    expect(b.expire(Number.MAX_SAFE_INTEGER)).toEqual([]);
  });

  it("expires the rest of a split blob with its original queue time", () => {
    const b = new PartitionBatcher(0, policy({ size: 2 }));
    const p = part(["a", "b", "c"]);
    b.enqueue(p.blob, p.futures, 50);
    expect(b.take(false)).toHaveLength(1);
    expect(b.expire(50)).toEqual([p.futures[2]]);
    expect(b.queued).toBe(0);
    expect(b.take(true)).toEqual([]);
  });
});
