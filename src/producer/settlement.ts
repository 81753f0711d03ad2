/**
 * Where every future of a producer settles: resolved with its ID or failed with its
 * error, exactly once, and (with a write-ahead log) marked durable before that. Counts
 * outcomes, tells the error listeners, and releases each event once from the capacity
 * gate (when it is durable, or else when it settles) and from the flush trackers.
 */
import { isDurable, markDurable, rejectFuture, resolveFuture, type EventFuture } from "../core/future.js";
import type { CapacityGate } from "./capacity-gate.js";
import type { FlushTracker } from "./flush-tracker.js";

export type ErrorListener = (error: Error, future: EventFuture) => void;

export class Settlement {
  acknowledged = 0;
  failed = 0;
  readonly #listeners = new Set<ErrorListener>();

  constructor(
    private readonly flushes: FlushTracker,
    private readonly capacity: CapacityGate,
    /** With a WAL: what `flush({ durable: true })` waits on (events durable, or settled first). */
    private readonly durables: FlushTracker | undefined,
  ) {}

  get listeners(): Set<ErrorListener> {
    return this.#listeners;
  }

  /** Resolves a batch's futures: contiguous IDs from `firstId`, or `ids[idsAt + j]`. */
  acknowledge(futures: readonly EventFuture[], partition: number, firstId: number, ids?: Float64Array, idsAt = -1): void {
    const { flushes, durables } = this;
    let released = 0;
    for (let j = 0; j < futures.length; j++) {
      const f = futures[j]!;
      const wasDurable = durables !== undefined && isDurable(f);
      resolveFuture(f, idsAt < 0 ? firstId + j : ids![idsAt + j]!, partition);
      flushes.settled(f.index);
      if (!wasDurable) {
        durables?.settled(f.index);
        released++;
      }
    }
    this.acknowledged += futures.length;
    this.capacity.release(released);
  }

  /** A batch's futures are in the WAL: `durable()` resolves, and their capacity is free again. */
  durable(futures: readonly EventFuture[]): void {
    let released = 0;
    for (const f of futures) {
      if (!markDurable(f)) continue;
      this.durables?.settled(f.index);
      released++;
    }
    this.capacity.release(released);
  }

  /** Fails one event (`partition` -1 when none was chosen yet). */
  fail(future: EventFuture, error: Error, partition = -1): void {
    const wasDurable = this.durables !== undefined && isDurable(future);
    rejectFuture(future, error, partition);
    this.failed++;
    for (const listener of this.#listeners) {
      try {
        listener(error, future);
      } catch {
        // A throwing listener must not break delivery of the other events.
      }
    }
    this.flushes.settled(future.index);
    if (!wasDurable) {
      this.durables?.settled(future.index);
      this.capacity.release(1);
    }
  }
}
