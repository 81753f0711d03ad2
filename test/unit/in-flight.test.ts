import { describe, expect, it } from "vitest";
import { InFlightTable } from "../../dist/src/producer/in-flight.js";
import { futureAt } from "./support.js";

const futures = (n: number) => Array.from({ length: n }, (_, i) => futureAt(i));

describe("InFlightTable", () => {
  it("finds a batch again by (partition, seq), once", () => {
    const t = new InFlightTable();
    const a = futures(2);
    const b = futures(3);
    t.add(0, 0, a);
    t.add(0, 1, b);
    expect(t.size).toBe(2);
    expect(t.take(0, 1)?.futures).toBe(b);
    expect(t.take(0, 1)).toBeUndefined(); // answered twice: nothing the second time
    expect(t.size).toBe(1);
    expect(t.take(0, 0)?.futures).toBe(a);
    expect(t.size).toBe(0);
  });

  it("an unknown batch gives no futures", () => {
    const t = new InFlightTable();
    expect(t.take(3, 9)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it("keeps (partition, seq) pairs apart, also for large values", () => {
    const t = new InFlightTable();
    // Pairs that collide under a narrower key (p × 1000 + s, p << 16 | s, p × 2^31 + s, …).
    const pairs: [number, number][] = [
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 1000],
      [0, 65_536],
      [0, 2 ** 31],
      [2, 0],
      [0, 2 ** 32 - 1],
      [1000, 2 ** 32 - 1],
      [1001, 0],
      [65_535, 123_456_789],
    ];
    const byPair = pairs.map((p) => [p, futures(1)] as const);
    for (const [[p, s], f] of byPair) t.add(p, s, f);
    expect(t.size).toBe(pairs.length);
    for (const [[p, s], f] of byPair) expect(t.take(p, s)?.futures).toBe(f);
    expect(t.size).toBe(0);
  });
});
