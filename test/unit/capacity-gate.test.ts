import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CapacityGate } from "../../dist/src/producer/capacity-gate.js";
import { drainMicrotasks, track } from "./support.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function full(limit: number): CapacityGate {
  const g = new CapacityGate(limit);
  for (let i = 0; i < limit; i++) g.add();
  return g;
}

describe("CapacityGate", () => {
  it("has capacity below the limit and none at it", () => {
    const g = new CapacityGate(4);
    for (let i = 0; i < 3; i++) {
      g.add();
      expect(g.hasCapacity).toBe(true);
    }
    g.add();
    expect(g.pending).toBe(4);
    expect(g.hasCapacity).toBe(false);
    g.release(1);
    expect(g.hasCapacity).toBe(true);
  });

  it("wait() resolves at once while there is capacity", async () => {
    const g = new CapacityGate(4);
    g.add();
    const w = track(g.wait());
    await drainMicrotasks(1);
    expect(w.state).toBe("resolved");
    expect(g.waiting).toBe(0);
  });

  it("wait() on a full gate resolves only once pending is down to half the limit (hysteresis)", async () => {
    const g = full(8);
    const w = track(g.wait());
    expect(g.waiting).toBe(1);
    g.release(1); // 7: capacity again, but the waiter keeps waiting
    expect(g.hasCapacity).toBe(true);
    await vi.runAllTimersAsync();
    expect(w.state).toBe("pending");
    g.release(2); // 5
    await vi.runAllTimersAsync();
    expect(w.state).toBe("pending");
    g.release(1); // 4 = 8 / 2
    await vi.runAllTimersAsync();
    expect(w.state).toBe("resolved");
    expect(g.waiting).toBe(0);
  });

  it("rounds the half down for odd limits", async () => {
    const g = full(5);
    const w = track(g.wait());
    g.release(2); // 3 > 2.5
    await vi.runAllTimersAsync();
    expect(w.state).toBe("pending");
    g.release(1); // 2
    await vi.runAllTimersAsync();
    expect(w.state).toBe("resolved");
  });

  it("wakes waiters from setImmediate, not synchronously inside release()", async () => {
    const g = full(4);
    const w = track(g.wait());
    g.release(4);
    await drainMicrotasks();
    expect(w.state).toBe("pending"); // not from the release call, not from a microtask
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersToNextTimer(); // runs the setImmediate
    await drainMicrotasks();
    expect(w.state).toBe("resolved");
  });

  it("schedules one wake-up for many releases and wakes every waiter", async () => {
    const g = full(10);
    const waiters = [track(g.wait()), track(g.wait()), track(g.wait())];
    g.release(5);
    g.release(1);
    g.release(1);
    expect(vi.getTimerCount()).toBe(1);
    await vi.runAllTimersAsync();
    expect(waiters.map((w) => w.state)).toEqual(["resolved", "resolved", "resolved"]);
    expect(g.waiting).toBe(0);
    // Releases with nobody waiting schedule nothing.
    g.release(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a waiter that arrives after a wake-up ran waits for the next one", async () => {
    const g = full(4);
    const first = track(g.wait());
    g.release(2);
    await vi.runAllTimersAsync();
    expect(first.state).toBe("resolved");
    g.add();
    g.add(); // full again
    const second = track(g.wait());
    await vi.runAllTimersAsync();
    expect(second.state).toBe("pending");
    g.release(2);
    await vi.runAllTimersAsync();
    expect(second.state).toBe("resolved");
  });

  it("openAll() lets every waiter go, whatever the count", async () => {
    const g = full(4);
    const a = track(g.wait());
    const b = track(g.wait());
    g.openAll();
    await drainMicrotasks();
    expect([a.state, b.state]).toEqual(["resolved", "resolved"]);
    expect(g.waiting).toBe(0);
    expect(g.pending).toBe(4);
  });
});
