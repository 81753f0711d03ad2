import { describe, expect, it } from "vitest";
import { Sender } from "../../dist/src/producer/sender.js";
import { encodeRecords } from "../../dist/src/core/records.js";
import type { EventFuture } from "../../dist/src/core/future.js";
import { futureAt } from "./support.js";

const enc = new TextEncoder();

/** A Sender over `partitions` partitions with one slot each, a transport that records what it is sent, and the failures it reports. */
function sender(partitions = 2) {
  const failed: { future: EventFuture; partition: number }[] = [];
  const sent: { partition: number; count: number }[] = [];
  const settlement = { fail: (future: EventFuture, _err: Error, partition: number) => failed.push({ future, partition }) };
  const s = new Sender(
    partitions,
    { size: "adaptive", maxInFlight: 1, maxBatchEvents: 1000, maxBatchBytes: 1 << 20, lingerMs: 0 },
    60_000,
    settlement as never,
    {},
  );
  s.attach({ send: (m: { partition: number; count: number }) => sent.push({ partition: m.partition, count: m.count }) } as never, []);
  let index = 0;
  const enqueue = (partition: number, n: number): EventFuture[] => {
    const futures = Array.from({ length: n }, () => futureAt(index++));
    s.enqueue(partition, encodeRecords(futures.map((f) => ({ metadata: enc.encode(String(f.index)), data: new Uint8Array(0) }))), futures, Date.now(), Date.now());
    return futures;
  };
  return { s, failed, sent, enqueue };
}

describe("Sender", () => {
  it("failAll fails what is queued behind a full in-flight window, and leaves what is in flight (inFlightToo false)", () => {
    const { s, failed, sent, enqueue } = sender();
    const first = enqueue(0, 3);
    s.pump(false);
    expect(sent).toEqual([{ partition: 0, count: 3 }]); // partition 0's only slot is taken
    const queued = [...enqueue(0, 2), ...enqueue(1, 0)];
    const other = enqueue(1, 4);
    s.failAll(new Error("gone"), false);
    expect(failed.map((f) => f.future)).toEqual([...queued, ...other]);
    expect(failed.map((f) => f.partition)).toEqual([0, 0, 1, 1, 1, 1]);
    expect(s.inFlight).toBe(1);
    expect(first.some((f) => failed.some((x) => x.future === f))).toBe(false);
  });

  it("failAll with inFlightToo fails the batches in flight as well, each event once", () => {
    const { s, failed, enqueue } = sender(1);
    const first = enqueue(0, 3);
    s.pump(false);
    const queued = enqueue(0, 2);
    s.failAll(new Error("gone"), true);
    expect(failed.map((f) => f.future)).toEqual([...first, ...queued]);
    expect(s.inFlight).toBe(0);
    s.failAll(new Error("again"), true);
    expect(failed).toHaveLength(5);
  });
});
