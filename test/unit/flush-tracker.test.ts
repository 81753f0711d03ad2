import { describe, expect, it } from "vitest";
import { FlushTracker } from "../../dist/src/producer/flush-tracker.js";
import { drainMicrotasks, permutation, prng, track } from "./support.js";

/** A tracker plus the push index counter a producer keeps. */
function tracker() {
  const t = new FlushTracker();
  let next = 0;
  return {
    t,
    push(n = 1): number[] {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        t.pushed();
        out.push(next++);
      }
      return out;
    },
    flush: () => t.flush(next),
  };
}

describe("FlushTracker", () => {
  it("a flush with nothing pending resolves at once", async () => {
    const { t, flush, push } = tracker();
    const f = track(flush());
    await drainMicrotasks(1);
    expect(f.state).toBe("resolved");
    expect(t.waiting).toBe(0);
    // Also after events came and went.
    const [i] = push();
    t.settled(i!);
    const g = track(flush());
    await drainMicrotasks(1);
    expect(g.state).toBe("resolved");
  });

  it("resolves once every event pushed before it settled, even with later pushes still pending", async () => {
    const { t, flush, push } = tracker();
    const before = push(3);
    const f = track(flush());
    const after = push(2);
    expect(t.waiting).toBe(1);
    t.settled(before[0]!);
    t.settled(before[2]!);
    await drainMicrotasks();
    expect(f.state).toBe("pending");
    t.settled(after[0]!); // a later event settling does not count for this flush
    await drainMicrotasks();
    expect(f.state).toBe("pending");
    t.settled(before[1]!);
    await drainMicrotasks();
    expect(f.state).toBe("resolved");
    expect(t.waiting).toBe(0);
    // The later events are still tracked: the next flush waits for the one left.
    const g = track(flush());
    await drainMicrotasks();
    expect(g.state).toBe("pending");
    t.settled(after[1]!);
    await drainMicrotasks();
    expect(g.state).toBe("resolved");
  });

  it("overlapping flushes resolve in order, each as soon as its own events settled", async () => {
    const { t, flush, push } = tracker();
    const order: string[] = [];
    const e1 = push(2);
    const f1 = flush().then(() => order.push("f1"));
    const e2 = push(1);
    const f2 = flush().then(() => order.push("f2"));
    const e3 = push(1);
    const f3 = flush().then(() => order.push("f3"));
    expect(t.waiting).toBe(3);
    // The newest events settle first: nobody may resolve yet.
    t.settled(e3[0]!);
    t.settled(e2[0]!);
    await drainMicrotasks();
    expect(order).toEqual([]);
    t.settled(e1[1]!);
    await drainMicrotasks();
    expect(order).toEqual([]);
    t.settled(e1[0]!);
    await Promise.all([f1, f2, f3]);
    expect(order).toEqual(["f1", "f2", "f3"]);
    expect(t.waiting).toBe(0);
  });

  it("resolves an earlier flush while a later one still waits", async () => {
    const { t, flush, push } = tracker();
    const e1 = push(1);
    const f1 = track(flush());
    const e2 = push(1);
    const f2 = track(flush());
    t.settled(e1[0]!);
    await drainMicrotasks();
    expect([f1.state, f2.state]).toEqual(["resolved", "pending"]);
    expect(t.waiting).toBe(1);
    t.settled(e2[0]!);
    await drainMicrotasks();
    expect(f2.state).toBe("resolved");
  });

  it("two flushes with no push between them both wait for the same events", async () => {
    const { t, flush, push } = tracker();
    const e = push(2);
    const a = track(flush());
    const b = track(flush());
    t.settled(e[1]!);
    await drainMicrotasks();
    expect([a.state, b.state]).toEqual(["pending", "pending"]);
    t.settled(e[0]!);
    await drainMicrotasks();
    expect([a.state, b.state]).toEqual(["resolved", "resolved"]);
    // Events pushed after both flushes land in the newest epoch.
    const later = push(1);
    const c = track(flush());
    await drainMicrotasks();
    expect(c.state).toBe("pending");
    t.settled(later[0]!);
    await drainMicrotasks();
    expect(c.state).toBe("resolved");
  });

  it("property: with settles in random order, each flush resolves exactly when its events are all settled, in flush order", async () => {
    const random = prng(2024);
    for (let round = 0; round < 30; round++) {
      const { t, flush, push } = tracker();
      const flushes: { upTo: number; state: ReturnType<typeof track<void>> }[] = [];
      const order: number[] = [];
      let total = 0;
      for (let k = 0; k < 6; k++) {
        total += push(Math.floor(random() * 5)).length;
        const id = flushes.length;
        const p = flush();
        p.then(() => order.push(id));
        flushes.push({ upTo: total, state: track(p) });
      }
      total += push(3).length; // pushed after the last flush
      const settled = new Set<number>();
      for (const i of permutation(total, random)) {
        t.settled(i);
        settled.add(i);
        await drainMicrotasks();
        for (const f of flushes) {
          let all = true;
          for (let j = 0; j < f.upTo; j++) if (!settled.has(j)) all = false;
          expect(f.state.state, `round ${round}, flush up to ${f.upTo}`).toBe(all ? "resolved" : "pending");
        }
      }
      expect(order).toEqual([0, 1, 2, 3, 4, 5]);
      expect(t.waiting).toBe(0);
    }
  });

  it("stays correct and short over 100k push / flush / settle cycles", async () => {
    const { t, flush, push } = tracker();
    // Keep two flushes outstanding at any time, settling out of order, as a busy producer does.
    let resolved = 0;
    let maxWaiting = 0;
    let held: number[] = [];
    for (let cycle = 0; cycle < 100_000; cycle++) {
      const [a, b] = push(2) as [number, number];
      flush().then(() => resolved++);
      maxWaiting = Math.max(maxWaiting, t.waiting);
      t.settled(b);
      for (const h of held) t.settled(h);
      held = [a];
    }
    for (const h of held) t.settled(h);
    await drainMicrotasks(3);
    expect(resolved).toBe(100_000);
    expect(t.waiting).toBe(0);
    expect(maxWaiting).toBe(2);
    // Behaves afterwards exactly as a fresh tracker: an empty flush resolves at once,
    // a flush over a pending event waits for it.
    const empty = track(flush());
    const [e] = push();
    const f = track(flush());
    await drainMicrotasks();
    expect([empty.state, f.state]).toEqual(["resolved", "pending"]);
    t.settled(e!);
    await drainMicrotasks();
    expect(f.state).toBe("resolved");
  });
});
