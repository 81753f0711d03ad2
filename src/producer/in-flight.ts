/** Batches sent to the transport thread and not yet answered, found again by (partition, seq). */
import type { EventFuture } from "../core/future.js";

export class InFlightTable {
  readonly #batches = new Map<number, EventFuture[]>();

  get size(): number {
    return this.#batches.size;
  }

  add(partition: number, seq: number, futures: EventFuture[]): void {
    this.#batches.set(key(partition, seq), futures);
  }

  /** Removes and returns the futures of a batch; empty when it was not in flight. */
  take(partition: number, seq: number): EventFuture[] {
    const k = key(partition, seq);
    const futures = this.#batches.get(k);
    if (futures === undefined) return NONE;
    this.#batches.delete(k);
    return futures;
  }
}

const NONE: EventFuture[] = [];
/** Sequences stay below 2^32 per partition long before a float loses precision on the product. */
const key = (partition: number, seq: number): number => partition * 2 ** 32 + seq;
