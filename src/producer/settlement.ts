/**
 * Where every future of a producer settles: resolved with its ID or failed with its
 * error, exactly once. Counts outcomes, tells the error listeners, and releases the
 * event from the flush tracker and the capacity gate.
 */
import { rejectFuture, resolveFuture, type EventFuture } from "../core/future.js";
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
  ) {}

  get listeners(): Set<ErrorListener> {
    return this.#listeners;
  }

  /** Resolves a batch's futures: contiguous IDs from `firstId`, or `ids[idsAt + j]`. */
  acknowledge(futures: readonly EventFuture[], partition: number, firstId: number, ids?: Float64Array, idsAt = -1): void {
    const flushes = this.flushes;
    for (let j = 0; j < futures.length; j++) {
      const f = futures[j]!;
      resolveFuture(f, idsAt < 0 ? firstId + j : ids![idsAt + j]!, partition);
      flushes.settled(f.index);
    }
    this.acknowledged += futures.length;
    this.capacity.release(futures.length);
  }

  /** Fails one event (`partition` -1 when none was chosen yet). */
  fail(future: EventFuture, error: Error, partition = -1): void {
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
    this.capacity.release(1);
  }
}
