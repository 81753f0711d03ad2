// pushMany's iterator against a fake producer whose futures the test settles: acks in input
// order, backpressure, early exit closing the source, errors of the source.
import { describe, expect, it } from "vitest";
import { pushMany, type BulkTarget } from "../../dist/src/producer/bulk.js";
import { EventFuture, rejectFuture, resolveFuture } from "../../dist/src/core/future.js";

/** A producer of `capacity` pending events; `settle(n)` acknowledges the oldest n. */
function fakeProducer(capacity: number) {
  const pending: EventFuture[] = [];
  let pushed = 0;
  let flushes = 0;
  let wake: (() => void) | undefined;
  const target: BulkTarget = {
    push(metadata) {
      const f = new EventFuture(pushed++);
      if ((metadata as { bad?: boolean }).bad) rejectFuture(f, new Error(`bad ${f.index}`), 0);
      else pending.push(f);
      return f;
    },
    get hasCapacity() {
      return pending.length < capacity;
    },
    ready: () => (pending.length < capacity ? Promise.resolve() : new Promise<void>((r) => (wake = r))),
    flush: () => (flushes++, Promise.resolve()),
  };
  const settle = (n: number) => {
    for (const f of pending.splice(0, n)) resolveFuture(f, 1000 + f.index, f.index % 3);
    wake?.();
  };
  return { target, settle, pending, get pushed() { return pushed; }, get flushes() { return flushes; } };
}

describe("pushMany", () => {
  it("yields one ack per event in input order, errors in place, never more than capacity pending", async () => {
    const p = fakeProducer(10);
    const source = Array.from({ length: 55 }, (_, i) => ({ metadata: { i, bad: i === 17 } }));
    const acks: unknown[] = [];
    const it = pushMany(p.target, source);
    // An automatic settler: acknowledges what is pending whenever the consumer waits.
    const timer = setInterval(() => p.settle(4), 1);
    try {
      for await (const ack of it) {
        expect(p.pending.length).toBeLessThanOrEqual(10);
        acks.push(ack);
      }
    } finally {
      clearInterval(timer);
    }
    expect(acks).toHaveLength(55);
    expect(acks.map((a) => (a as { index: number }).index)).toEqual(Array.from({ length: 55 }, (_, i) => i));
    expect(acks[17]).toMatchObject({ index: 17, error: expect.objectContaining({ message: "bad 17" }) });
    expect(acks[18]).toEqual({ index: 18, partition: 0, id: 1018 });
    expect(p.flushes).toBeGreaterThan(0); // a head that was not complete asked partial batches to leave
  });

  it("hands out acks that are ready without waiting, and answers overlapping next() calls in order", async () => {
    const p = fakeProducer(100);
    const it = pushMany(p.target, Array.from({ length: 5 }, (_, i) => ({ metadata: { i } })));
    const calls = [it.next(), it.next(), it.next()];
    p.settle(5);
    expect((await Promise.all(calls)).map((r) => r.value)).toEqual([0, 1, 2].map((i) => ({ index: i, partition: i % 3, id: 1000 + i })));
    expect((await it.next()).value).toMatchObject({ index: 3 });
    expect((await it.next()).value).toMatchObject({ index: 4 });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it("closes a generator source when the loop is left early, and pushes nothing after", async () => {
    const p = fakeProducer(3);
    let closed = false;
    function* source() {
      try {
        for (let i = 0; ; i++) yield { metadata: { i } };
      } finally {
        closed = true;
      }
    }
    const timer = setInterval(() => p.settle(1), 1);
    let n = 0;
    try {
      for await (const ack of pushMany(p.target, source())) if (++n === 4 || !ack) break;
    } finally {
      clearInterval(timer);
    }
    expect(closed).toBe(true);
    const pushed = p.pushed;
    await new Promise((r) => setTimeout(r, 5));
    expect(p.pushed).toBe(pushed);
  });

  it("ends with the source's error, and is done after it", async () => {
    const p = fakeProducer(100);
    async function* source() {
      yield { metadata: { i: 0 } };
      throw new Error("source broke");
    }
    const it = pushMany(p.target, source());
    await expect(it.next()).rejects.toThrow("source broke");
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(p.pushed).toBe(1);
  });
});
