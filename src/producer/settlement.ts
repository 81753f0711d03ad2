/**
 * Where every future of a producer settles: resolved with its ID or failed with its
 * error, exactly once, and (with a write-ahead log) marked durable before that. Counts
 * outcomes; tells the push's `onDelivery`, the delivery listeners and the error
 * listeners; reports failures nobody hears of; and releases each event once from the
 * capacity gate (when it is durable, or else when it settles) and from the flush trackers.
 */
import {
  deliveryCallbackOf,
  isDurable,
  isObserved,
  markDurable,
  rejectFuture,
  resolveFuture,
  type DeliveryCallback,
  type EventFuture,
} from "../core/future.js";
import type { Logger } from "../core/logger.js";
import type { CapacityGate } from "./capacity-gate.js";
import type { FailureLog } from "./failure-log.js";
import type { FlushTracker } from "./flush-tracker.js";

export type ErrorListener = (error: Error, future: EventFuture) => void;
/** A producer-wide delivery listener: every event's outcome, without a Promise per event. */
export type DeliveryListener = (error: Error | undefined, id: number | undefined, partition: number, future: EventFuture) => void;

export class Settlement {
  acknowledged = 0;
  failed = 0;
  /** Durable (in the WAL) and not yet settled. */
  durableOpen = 0;
  /** Acknowledged events per partition, and failed events per error code (for metrics). */
  readonly acknowledgedBy: number[] = [];
  readonly failedBy = new Map<string, number>();
  readonly errorListeners = new Set<ErrorListener>();
  readonly deliveryListeners = new Set<DeliveryListener>();

  constructor(
    private readonly flushes: FlushTracker,
    private readonly capacity: CapacityGate,
    /** With a WAL: what `flush({ durable: true })` waits on (events durable, or settled first). */
    private readonly durables: FlushTracker | undefined,
    private readonly logger: Logger,
    private readonly unheard: FailureLog,
  ) {}

  /** Resolves a batch's futures: contiguous IDs from `firstId`, or `ids[idsAt + j]`. */
  acknowledge(futures: readonly EventFuture[], partition: number, firstId: number, ids?: Float64Array, idsAt = -1): void {
    const { flushes, durables } = this;
    const listening = this.deliveryListeners.size > 0;
    let released = 0;
    for (let j = 0; j < futures.length; j++) {
      const f = futures[j]!;
      const id = idsAt < 0 ? firstId + j : ids![idsAt + j]!;
      const wasDurable = durables !== undefined && isDurable(f);
      resolveFuture(f, id, partition);
      flushes.settled(f.index);
      if (!wasDurable) {
        durables?.settled(f.index);
        released++;
      } else this.durableOpen--;
      const callback = deliveryCallbackOf(f);
      if (callback !== undefined) this.#call(callback, undefined, id, partition);
      if (listening) this.#tell(undefined, id, partition, f);
    }
    this.acknowledged += futures.length;
    this.acknowledgedBy[partition] = (this.acknowledgedBy[partition] ?? 0) + futures.length;
    this.capacity.release(released);
  }

  /** A batch's futures are in the WAL: `durable()` resolves, and their capacity is free again. */
  durable(futures: readonly EventFuture[]): void {
    let released = 0;
    for (const f of futures) {
      if (!markDurable(f)) continue;
      this.durables?.settled(f.index);
      this.durableOpen++;
      released++;
    }
    this.capacity.release(released);
  }

  /** Fails one event (`partition` -1 when none was chosen yet). */
  fail(future: EventFuture, error: Error, partition = -1): void {
    const wasDurable = this.durables !== undefined && isDurable(future);
    const heard = isObserved(future) || this.errorListeners.size > 0 || this.deliveryListeners.size > 0;
    rejectFuture(future, error, partition);
    this.failed++;
    const code = (error as { code?: unknown }).code;
    const kind = typeof code === "string" ? code : error.name;
    this.failedBy.set(kind, (this.failedBy.get(kind) ?? 0) + 1);
    for (const listener of this.errorListeners) {
      try {
        listener(error, future);
      } catch (err) {
        // A throwing listener must not break delivery of the other events.
        this.logger.error({ error: err }, "an error listener threw");
      }
    }
    const callback = deliveryCallbackOf(future);
    if (callback !== undefined) this.#call(callback, error, undefined, future.partition);
    if (this.deliveryListeners.size > 0) this.#tell(error, undefined, future.partition, future);
    if (!heard) this.unheard.report(error);
    this.flushes.settled(future.index);
    if (!wasDurable) {
      this.durables?.settled(future.index);
      this.capacity.release(1);
    } else this.durableOpen--;
  }

  #call(callback: DeliveryCallback, error: Error | undefined, id: number | undefined, partition: number): void {
    try {
      callback(error, id, partition);
    } catch (err) {
      this.logger.error({ error: err }, "an onDelivery callback threw");
    }
  }

  #tell(error: Error | undefined, id: number | undefined, partition: number, future: EventFuture): void {
    for (const listener of this.deliveryListeners) {
      try {
        listener(error, id, partition, future);
      } catch (err) {
        this.logger.error({ error: err }, "a delivery listener threw");
      }
    }
  }
}
