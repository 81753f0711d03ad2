import { describe, expect, it } from "vitest";
import { Sequencer } from "../../dist/src/producer/sequencer.js";
import { permutation, prng } from "./support.js";

describe("Sequencer", () => {
  it("Strict releases in seq order whatever the completion order (seeded random permutations)", () => {
    const random = prng(0x5eed);
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(random() * 64);
      const order = permutation(n, random);
      const released: string[] = [];
      const seq = new Sequencer<string>(true, (item) => released.push(item));
      // What heldBack must count: completions that arrive while an earlier chunk is still running.
      let expectedHeldBack = 0;
      let next = 0;
      const done = new Set<number>();
      for (const s of order) {
        if (s !== next) expectedHeldBack++;
        done.add(s);
        seq.complete(s, `chunk-${s}`);
        while (done.has(next)) next++;
        // Everything up to the first gap is out, nothing after it.
        expect(released.length, `round ${round}, order ${order.join(",")}`).toBe(next);
        expect(seq.waiting).toBe(done.size - next);
      }
      expect(released).toEqual(Array.from({ length: n }, (_, i) => `chunk-${i}`));
      expect(seq.heldBack).toBe(expectedHeldBack);
      expect(seq.waiting).toBe(0);
    }
  });

  it("Strict holds a finished chunk until every earlier one finished, then releases the run at once", () => {
    const released: number[] = [];
    const seq = new Sequencer<number>(true, (x) => released.push(x));
    seq.complete(2, 2);
    seq.complete(1, 1);
    expect(released).toEqual([]);
    expect(seq.waiting).toBe(2);
    expect(seq.heldBack).toBe(2);
    seq.complete(0, 0);
    expect(released).toEqual([0, 1, 2]);
    expect(seq.waiting).toBe(0);
    seq.complete(3, 3); // in order: released at once, not counted
    expect(released).toEqual([0, 1, 2, 3]);
    expect(seq.heldBack).toBe(2);
  });

  it("Strict in completion order equal to seq order holds nothing back", () => {
    const released: number[] = [];
    const seq = new Sequencer<number>(true, (x) => released.push(x));
    for (let i = 0; i < 100; i++) seq.complete(i, i);
    expect(released).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(seq.heldBack).toBe(0);
  });

  it("Loose releases each chunk the moment it finishes", () => {
    const random = prng(7);
    const order = permutation(50, random);
    const released: number[] = [];
    const seq = new Sequencer<number>(false, (x) => released.push(x));
    for (const s of order) {
      seq.complete(s, s);
      expect(released[released.length - 1]).toBe(s);
    }
    expect(released).toEqual(order);
    expect(seq.heldBack).toBe(0);
    expect(seq.waiting).toBe(0);
  });
});
