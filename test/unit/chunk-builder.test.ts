import { describe, expect, it } from "vitest";
import { ChunkBuilder } from "../../dist/src/producer/chunk-builder.js";
import { futureAt } from "./support.js";

const specs = { marker: "specs" } as never;

function bytes(...xs: number[]): Uint8Array {
  return Uint8Array.from(xs);
}

/** Event i's data as the worker will see it. */
function dataOf(input: { data: Uint8Array; dataOffsets: Uint32Array }, i: number): number[] {
  return [...input.data.subarray(input.dataOffsets[i]!, input.dataOffsets[i + 1]!)];
}

describe("ChunkBuilder.build", () => {
  it("packs single views, multi-part arrays and no-data events into one arena with the right offsets", () => {
    // A view into the middle of a bigger buffer: only its own bytes may be copied.
    const backing = bytes(90, 91, 7, 8, 9, 92);
    const view = backing.subarray(2, 5);
    const b = new ChunkBuilder();
    const f = [10, 11, 12, 13, 14].map((i) => futureAt(i));
    b.add(f[0]!, { n: 0 }, bytes(1, 2, 3), 3, -1, undefined);
    b.add(f[1]!, { n: 1 }, [bytes(4, 5), bytes(), bytes(6)], 3, 2, undefined);
    b.add(f[2]!, "no data", undefined, 0, -1, undefined);
    b.add(f[3]!, { n: 3 }, view, 3, 1, undefined);
    b.add(f[4]!, { n: 4 }, [], 0, -1, undefined);
    expect(b.size).toBe(5);
    expect(b.dataBytes).toBe(9);
    const { input, transfer } = b.build(specs, 4, 1234);
    expect(input.specs).toBe(specs);
    expect(input.numPartitions).toBe(4);
    expect(input.maxEventBytes).toBe(1234);
    expect(input.firstIndex).toBe(10);
    expect(input.metadata).toEqual([{ n: 0 }, { n: 1 }, "no data", { n: 3 }, { n: 4 }]);
    expect([...input.data]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...input.dataOffsets]).toEqual([0, 3, 6, 6, 9, 9]);
    expect([0, 1, 2, 3, 4].map((i) => dataOf(input, i))).toEqual([[1, 2, 3], [4, 5, 6], [], [7, 8, 9], []]);
    expect(input.partitions).toBeInstanceOf(Int32Array);
    expect([...input.partitions]).toEqual([-1, 2, -1, 1, -1]);
    expect(input.keys).toBeUndefined();
    expect(transfer).toHaveLength(3);
  });

  it("transfers exactly the arena, the offsets and the partitions, each owning its whole buffer", () => {
    const user = [bytes(1, 2), bytes(3)];
    const b = new ChunkBuilder();
    b.add(futureAt(0), 1, user[0], 2, -1, undefined);
    b.add(futureAt(1), 2, user[1], 1, 0, undefined);
    const { input, transfer } = b.build(specs, 1, 100);
    expect(transfer).toEqual([input.data.buffer, input.dataOffsets.buffer, input.partitions.buffer]);
    expect(new Set(transfer).size).toBe(3);
    expect(input.data.buffer.byteLength).toBe(3); // exactly sized, no slack sent along
    expect(input.dataOffsets.buffer.byteLength).toBe(3 * 4);
    expect(input.partitions.buffer.byteLength).toBe(2 * 4);
    for (const u of user) expect(transfer).not.toContain(u.buffer);
    // Transferring detaches the three buffers and leaves the caller's data alone.
    const copy = structuredClone(input, { transfer });
    expect(input.data.byteLength).toBe(0);
    expect([...copy.data]).toEqual([1, 2, 3]);
    expect([...copy.dataOffsets]).toEqual([0, 2, 3]);
    expect([...user[0]!, ...user[1]!]).toEqual([1, 2, 3]);
  });

  it("builds an empty chunk", () => {
    const { input, transfer } = new ChunkBuilder().build(specs, 1, 100);
    expect(input.firstIndex).toBe(0);
    expect([...input.dataOffsets]).toEqual([0]);
    expect(input.data.byteLength).toBe(0);
    expect(input.partitions.length).toBe(0);
    expect(transfer).toHaveLength(3);
  });

  it("has a keys array only when some event has a key, aligned with the events", () => {
    const b = new ChunkBuilder();
    b.add(futureAt(0), 0, undefined, 0, -1, undefined);
    b.add(futureAt(1), 1, undefined, 0, -1, undefined);
    expect(b.keys).toBeUndefined();
    b.add(futureAt(2), 2, undefined, 0, -1, "k2");
    b.add(futureAt(3), 3, undefined, 0, -1, undefined);
    b.add(futureAt(4), 4, undefined, 0, -1, "k4");
    const { input } = b.build(specs, 1, 100);
    expect(input.keys).toHaveLength(5);
    expect(Array.from(input.keys!)).toEqual([undefined, undefined, "k2", undefined, "k4"]);
    // The worker receives a clone: the alignment must survive it.
    expect(Array.from(structuredClone(input.keys)!)).toEqual([undefined, undefined, "k2", undefined, "k4"]);

    const first = new ChunkBuilder();
    first.add(futureAt(0), 0, undefined, 0, -1, "k0");
    first.add(futureAt(1), 1, undefined, 0, -1, undefined);
    expect(Array.from(first.build(specs, 1, 100).input.keys!)).toEqual(["k0", undefined]);
  });
});

describe("ChunkBuilder.without", () => {
  it("keeps the other events in order with their data, partitions and keys, and recomputes the bytes", () => {
    const b = new ChunkBuilder();
    const f = [0, 1, 2, 3, 4].map((i) => futureAt(i));
    b.add(f[0]!, "m0", bytes(1), 1, -1, undefined);
    b.add(f[1]!, "m1", [bytes(2, 2), bytes(2)], 3, 1, "k1");
    b.add(f[2]!, "m2", undefined, 0, 2, undefined);
    b.add(f[3]!, "m3", bytes(4, 4, 4, 4), 4, 3, "k3");
    b.add(f[4]!, "m4", [bytes(5), bytes(5)], 2, -1, undefined);
    const out = b.without(new Set([1, 3]));
    expect(out).not.toBe(b);
    expect(out.size).toBe(3);
    expect(out.futures).toEqual([f[0], f[2], f[4]]);
    expect(out.metadata).toEqual(["m0", "m2", "m4"]);
    expect(out.partitions).toEqual([-1, 2, -1]);
    expect(out.dataBytes).toBe(1 + 0 + 2);
    const { input } = out.build(specs, 4, 100);
    expect(input.firstIndex).toBe(0);
    expect([0, 1, 2].map((i) => dataOf(input, i))).toEqual([[1], [], [5, 5]]);
    // The original is untouched.
    expect(b.size).toBe(5);
    expect(b.dataBytes).toBe(10);

    const keep = b.without(new Set([0, 2]));
    expect(keep.futures).toEqual([f[1], f[3], f[4]]);
    expect(keep.dataBytes).toBe(3 + 4 + 2);
    expect(keep.build(specs, 4, 100).input.firstIndex).toBe(1);
    expect(Array.from(keep.keys!)).toEqual(["k1", "k3", undefined]);
  });

  it("drops everything, or nothing", () => {
    const b = new ChunkBuilder();
    b.add(futureAt(0), 0, bytes(1, 2), 2, -1, undefined);
    b.add(futureAt(1), 1, bytes(3), 1, -1, undefined);
    expect(b.without(new Set([0, 1])).size).toBe(0);
    expect(b.without(new Set([0, 1])).dataBytes).toBe(0);
    const all = b.without(new Set());
    expect(all.futures).toEqual(b.futures);
    expect(all.dataBytes).toBe(3);
  });
});
