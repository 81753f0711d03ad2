import { afterEach, describe, expect, it, vi } from "vitest";
import { AutoPlacement } from "../../dist/src/pipeline/auto-placement.js";

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Runs `measure` for one chunk with the clock stubbed so that the work appears to take
 * `nsPerEvent` per event: performance.now() answers t, then t + duration.
 */
function measureAt(ap: AutoPlacement, probe: number, placement: "inline" | "pool", events: number, nsPerEvent: number): void {
  // From 0, so that with 1000 events per chunk the durations and the ns back are exact.
  const start = 0;
  const end = (nsPerEvent * events) / 1e6;
  const now = vi.spyOn(performance, "now").mockReturnValueOnce(start).mockReturnValueOnce(end);
  let ran = 0;
  const out = ap.measure(probe, placement, events, () => ++ran);
  expect(out).toBe(1); // measure returns what the work returned
  expect(ran).toBe(1);
  expect(now).toHaveBeenCalledTimes(2);
  now.mockRestore();
}

/** Feeds chunks through next() + measure() with per-path costs; returns the placements used. */
function drive(ap: AutoPlacement, chunks: number, events: number, cost: { inline: number | number[]; pool: number | number[] }): string[] {
  const used: string[] = [];
  const at = { inline: 0, pool: 0 };
  for (let i = 0; i < chunks; i++) {
    const { placement, probe } = ap.next(events);
    used.push(placement);
    const c = cost[placement];
    const ns = Array.isArray(c) ? c[at[placement]++ % c.length]! : c;
    measureAt(ap, probe, placement, events, ns);
  }
  return used;
}

describe("AutoPlacement", () => {
  it("runs the first ~8192 events inline to warm up, then alternates inline / pool", () => {
    const ap = new AutoPlacement();
    const placements = Array.from({ length: 12 }, () => ap.next(1024));
    expect(placements.map((p) => p.probe)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // 8 chunks of 1024 = 8192 events of warm-up.
    expect(placements.map((p) => p.placement)).toEqual([
      ...Array(8).fill("inline"),
      "inline",
      "pool",
      "inline",
      "pool",
    ]);
  });

  it("counts warm-up in events, not chunks", () => {
    const ap = new AutoPlacement();
    const placements = Array.from({ length: 10 }, () => ap.next(1000).placement);
    // 9 chunks reach 9000 >= 8192 events.
    expect(placements).toEqual([...Array(9).fill("inline"), "inline"]);
    expect(ap.next(1000).placement).toBe("pool");
    const small = new AutoPlacement();
    const first = Array.from({ length: 8192 / 64 }, () => small.next(64).placement);
    expect(new Set(first)).toEqual(new Set(["inline"]));
    expect([small.next(64).placement, small.next(64).placement]).toEqual(["inline", "pool"]);
  });

  it("ignores warm-up timings: nothing is measured before the warm-up ends", () => {
    const ap = new AutoPlacement();
    for (let i = 0; i < 8; i++) {
      const { placement, probe } = ap.next(1024);
      measureAt(ap, probe, placement, 1024, 15_000); // slow, as a cold JIT is, but below "expensive"
    }
    expect(ap.measured.inlineNsPerEvent).toBeNaN();
    expect(ap.measured.poolNsPerEvent).toBeNaN();
    expect(ap.choice).toBeUndefined();
    // The warm-up was not cut short by those slow chunks.
    expect(ap.next(1024)).toEqual({ placement: "inline", probe: 8 });
  });

  it("decides 'pool' only when inline costs more than 6x the pool + 500 ns, after 6 samples of each", () => {
    const ap = new AutoPlacement();
    drive(ap, 9, 1000, { inline: 1000, pool: 1000 }); // warm-up
    // 5 samples of each: still probing.
    drive(ap, 10, 1000, { inline: 7000, pool: 1000 });
    expect(ap.choice).toBeUndefined();
    drive(ap, 2, 1000, { inline: 7000, pool: 1000 });
    expect(ap.choice).toBe("pool"); // 7000 > 6 × 1000 + 500
    expect(ap.measured).toEqual({ inlineNsPerEvent: 7000, poolNsPerEvent: 1000 });
  });

  it.each([
    { inline: 6500, pool: 1000, choice: "inline" }, // exactly at the threshold: not enough
    { inline: 6510, pool: 1000, choice: "pool" },
    { inline: 5000, pool: 1000, choice: "inline" }, // 5x: a crossing paid twice does not pay off
    { inline: 400, pool: 10, choice: "inline" }, // 40x but below the margin
    { inline: 200_000, pool: 2000, choice: "pool" },
  ])("inline $inline ns vs pool $pool ns per event → $choice", ({ inline, pool, choice }) => {
    const ap = new AutoPlacement();
    drive(ap, 9, 1000, { inline: 100, pool: 100 });
    drive(ap, 12, 1000, { inline, pool });
    expect(ap.choice).toBe(choice);
  });

  it("decides on the lowest sample of each path (noise only ever adds)", () => {
    const ap = new AutoPlacement();
    drive(ap, 9, 1000, { inline: 100, pool: 100 });
    // Inline is noisy but its best is 7000; the pool's best is 1000.
    drive(ap, 12, 1000, { inline: [9000, 7000, 50_000, 8000, 7500, 12_000], pool: [3000, 1000, 1200, 5000, 1100, 1000] });
    expect(ap.measured).toEqual({ inlineNsPerEvent: 7000, poolNsPerEvent: 1000 });
    expect(ap.choice).toBe("pool");
    const other = new AutoPlacement();
    drive(other, 9, 1000, { inline: 100, pool: 100 });
    // Means would say pool (inline mean 14k vs pool mean 1.1k); the lows say 6000 vs 1000: inline.
    drive(other, 12, 1000, { inline: [6000, 30_000, 20_000, 10_000, 9000, 9000], pool: [1000, 1000, 1200, 1200, 1100, 1100] });
    expect(other.choice).toBe("inline");
  });

  it("keeps the decision once made", () => {
    const ap = new AutoPlacement();
    drive(ap, 8, 1024, { inline: 100, pool: 100 });
    drive(ap, 12, 1024, { inline: 10_000, pool: 1000 });
    expect(ap.choice).toBe("pool");
    drive(ap, 12, 1024, { inline: 10, pool: 100_000 });
    expect(ap.choice).toBe("pool");
  });

  it("an expensive pipeline (> 20 µs per event inline) ends the warm-up at once, gives each worker a pool probe first, and is decided on two samples of each path", () => {
    const ap = new AutoPlacement(2);
    const first = ap.next(100);
    expect(first).toEqual({ placement: "inline", probe: 0 });
    measureAt(ap, first.probe, "inline", 100, 50_000);
    // That chunk was no sample (a pipeline's first chunk may pay its lazy set-up).
    expect(ap.measured.inlineNsPerEvent).toBeNaN();
    expect(drive(ap, 2, 100, { inline: 50_000, pool: 1000 })).toEqual(["pool", "pool"]);
    expect(ap.choice).toBeUndefined();
    expect(drive(ap, 1, 100, { inline: 50_000, pool: 1000 })).toEqual(["inline"]);
    // One inline sample could be a GC pause: "pool" waits for a second.
    expect(ap.choice).toBeUndefined();
    expect(drive(ap, 3, 100, { inline: 50_000, pool: 1000 })).toEqual(["pool", "pool", "inline"]);
    expect(ap.choice).toBe("pool"); // 50 µs > 2 × (6 × 1 µs + 0.5 µs)
  });

  it("a cheap pipeline whose first chunk paid a lazy set-up goes back to warming up once an inline probe is cheap", () => {
    const ap = new AutoPlacement(2);
    drive(ap, 1, 1000, { inline: 25_000, pool: 1000 }); // the set-up: looks expensive
    expect(drive(ap, 3, 1000, { inline: 4000, pool: 1000 })).toEqual(["pool", "pool", "inline"]);
    // 4 µs inline is not expensive: nothing was decided, the samples (of a cold JIT) are
    // gone, and the warm-up runs inline again.
    expect(ap.choice).toBeUndefined();
    expect(ap.measured.inlineNsPerEvent).toBeNaN();
    expect(ap.measured.poolNsPerEvent).toBeNaN();
    expect(new Set(drive(ap, 7, 1000, { inline: 1300, pool: 1000 }))).toEqual(new Set(["inline"]));
    // Then the usual alternation, and a clear inline after the warm-up.
    expect(drive(ap, 4, 1000, { inline: 1300, pool: 1000 })).toEqual(["inline", "inline", "pool", "inline"]);
    expect(ap.choice).toBe("inline");
  });

  it("an expensive pipeline whose case is close is decided on 4 samples of each path", () => {
    const ap = new AutoPlacement();
    drive(ap, 1, 100, { inline: 30_000, pool: 4000 }); // warm-up
    expect(drive(ap, 7, 100, { inline: 30_000, pool: 4000 })).toEqual(["pool", "inline", "pool", "inline", "pool", "inline", "pool"]);
    expect(ap.choice).toBeUndefined(); // 30 µs vs a threshold of 24.5 µs: not clear
    drive(ap, 1, 100, { inline: 30_000, pool: 4000 });
    expect(ap.choice).toBe("pool");
    // On a pool of 2, each inline probe follows two pool probes.
    const two = new AutoPlacement(2);
    drive(two, 1, 100, { inline: 30_000, pool: 4000 });
    expect(drive(two, 12, 100, { inline: 30_000, pool: 4000 }).join(" ")).toBe("pool pool inline ".repeat(4).trim());
    expect(two.choice).toBe("pool");
  });

  it.each([
    { inline: 2000, pool: 1000, choice: "inline" }, // inline under half the threshold (6.5 µs), not under a quarter
    { inline: 14_000, pool: 1000, choice: "pool" }, // inline over twice the threshold, not over 4 times
  ])("a clear case ($inline ns inline vs $pool ns pool) is decided after 2 samples of each path", ({ inline, pool, choice }) => {
    const ap = new AutoPlacement();
    drive(ap, 9, 1000, { inline: 100, pool: 100 }); // warm-up
    drive(ap, 3, 1000, { inline, pool });
    expect(ap.choice).toBeUndefined();
    drive(ap, 1, 1000, { inline, pool });
    expect(ap.choice).toBe(choice);
  });

  it("a very clear case for inline (a quarter of the threshold) is decided after 1 sample of each path; for the pool it is not", () => {
    const ap = new AutoPlacement();
    drive(ap, 9, 1000, { inline: 100, pool: 100 }); // warm-up
    drive(ap, 1, 1000, { inline: 1000, pool: 1000 });
    expect(ap.choice).toBeUndefined();
    drive(ap, 1, 1000, { inline: 1000, pool: 1000 });
    expect(ap.choice).toBe("inline"); // 4 × 1 µs < 6 × 1 µs + 0.5 µs
    const other = new AutoPlacement();
    drive(other, 9, 1000, { inline: 100, pool: 100 });
    drive(other, 2, 1000, { inline: 30_000, pool: 1000 });
    expect(other.choice).toBeUndefined();
    drive(other, 2, 1000, { inline: 30_000, pool: 1000 });
    expect(other.choice).toBe("pool");
  });

  it("an expensive pipeline that is cheap to hand over still may stay inline", () => {
    const ap = new AutoPlacement();
    drive(ap, 2, 100, { inline: 30_000, pool: 10_000 });
    drive(ap, 8, 100, { inline: 30_000, pool: 10_000 });
    expect(ap.choice).toBe("inline"); // 30 µs < 6 × 10 µs + 0.5 µs
  });

  it("a cheap pipeline does not shorten the warm-up", () => {
    const ap = new AutoPlacement();
    const used = drive(ap, 60, 100, { inline: 19_000, pool: 1000 });
    // 8192 / 100 → 82 chunks of warm-up: all 60 inline, nothing decided.
    expect(new Set(used)).toEqual(new Set(["inline"]));
    expect(ap.choice).toBeUndefined();
  });

  it("drops a sample its caller says does not count (a chunk the pool only queued)", () => {
    const ap = new AutoPlacement();
    drive(ap, 9, 1000, { inline: 100, pool: 100 }); // warm-up
    const a = ap.next(1000);
    measureAt(ap, a.probe, a.placement, 1000, 1000);
    const b = ap.next(1000);
    expect(b.placement).toBe("pool");
    vi.spyOn(performance, "now").mockReturnValueOnce(0).mockReturnValueOnce(0.001);
    let asked = 0;
    ap.measure(b.probe, "pool", 1000, () => 0, () => (asked++, false));
    expect(asked).toBe(1);
    expect(ap.measured).toEqual({ inlineNsPerEvent: 1000, poolNsPerEvent: NaN });
  });

  it("measures real work with the real clock", () => {
    const ap = new AutoPlacement();
    const busy = (us: number) => {
      const end = performance.now() + us / 1000;
      while (performance.now() < end);
      return us;
    };
    for (let i = 0; i < 9; i++) {
      const { placement, probe } = ap.next(1024);
      ap.measure(probe, placement, 1024, () => 0);
    }
    const { placement, probe } = ap.next(100);
    expect(placement).toBe("pool");
    expect(ap.measure(probe, placement, 100, () => busy(2000))).toBe(2000);
    // 2 ms over 100 events: at least 20 µs per event.
    expect(ap.measured.poolNsPerEvent).toBeGreaterThanOrEqual(20_000);
  });
});
