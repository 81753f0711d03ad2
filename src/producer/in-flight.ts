/**
 * Batches sent to the transport thread and not yet answered, found again by (partition,
 * seq). With a WAL a batch frees its partition's slot when it is durable, long before
 * the log acknowledges it; `slotFreed` says whether that happened.
 */
import type { EventFuture } from "../core/future.js";

export interface InFlightBatch {
  futures: EventFuture[];
  slotFreed: boolean;
  /** When its first event was pushed (ms since epoch). */
  pushedAt: number;
}

export class InFlightTable {
  readonly #batches = new Map<number, InFlightBatch>();

  get size(): number {
    return this.#batches.size;
  }

  add(partition: number, seq: number, futures: EventFuture[], pushedAt = 0): void {
    this.#batches.set(key(partition, seq), { futures, slotFreed: false, pushedAt });
  }

  /** The batch, left in the table (a durability notice). */
  get(partition: number, seq: number): InFlightBatch | undefined {
    return this.#batches.get(key(partition, seq));
  }

  /** Removes and yields every batch (the producer closes without waiting for them). */
  *drain(): Generator<{ partition: number; seq: number; batch: InFlightBatch }> {
    for (const [k, batch] of this.#batches) {
      this.#batches.delete(k);
      yield { partition: Math.floor(k / 2 ** 32), seq: k % 2 ** 32, batch };
    }
  }

  /** Removes and returns a batch (its ack or failure); undefined when it was not in flight. */
  take(partition: number, seq: number): InFlightBatch | undefined {
    const k = key(partition, seq);
    const batch = this.#batches.get(k);
    if (batch !== undefined) this.#batches.delete(k);
    return batch;
  }
}

/** Sequences stay below 2^32 per partition long before a float loses precision on the product. */
const key = (partition: number, seq: number): number => partition * 2 ** 32 + seq;
