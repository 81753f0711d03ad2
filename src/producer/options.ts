/** Producer options, their defaults and their checks. */
import { InvalidArgumentError } from "../client/errors.js";
import { BatchSize, Ordering, type BatchSizeOption } from "../client/types.js";
import type { ThreadPool } from "../client/thread-pool.js";
import type { EventFuture } from "../client/future.js";

export interface ProducerOptions {
  /** Producer name; the broker dedupes re-sent batches by a producer ID derived from it. */
  name?: string;
  /** Where the pipeline runs. Default: inline on the main thread. */
  threadPool?: ThreadPool;
  /** Events per batch, or `BatchSize.Adaptive` (default). */
  batchSize?: BatchSizeOption;
  /** Unacknowledged batches per partition. Default 2. */
  maxNumBatches?: number;
  /** `Ordering.Strict` (default) or `Ordering.Loose`. */
  ordering?: Ordering;
  /** Events per chunk handed to a pipeline worker. Default 1024. */
  chunkSize?: number;
  /** A batch not acknowledged after this long fails its events with DeliveryTimeoutError. Default 30 s. */
  deliveryTimeoutMs?: number;
  /**
   * Unsettled events above which `hasCapacity` turns false and `ready()` waits.
   * Default: max(65536, 2 × partitions × maxNumBatches × batch size).
   */
  maxPendingEvents?: number;
  /** Called for every event that fails (also when nobody awaits its future). */
  onError?: (error: Error, future: EventFuture) => void;
}

export interface ResolvedProducerOptions {
  name: string;
  batchSize: number | "adaptive";
  maxNumBatches: number;
  strict: boolean;
  chunkSize: number;
  deliveryTimeoutMs: number;
  maxPendingEvents: number;
}

const positiveInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;

export function resolveProducerOptions(o: ProducerOptions, partitions: number): ResolvedProducerOptions {
  const name = o.name ?? "producer";
  if (typeof name !== "string" || name.length === 0 || name.length > 200) {
    throw new InvalidArgumentError("producer name must be a non-empty string of at most 200 characters");
  }
  const batchSize = o.batchSize ?? BatchSize.Adaptive;
  if (batchSize !== BatchSize.Adaptive && !positiveInt(batchSize)) {
    throw new InvalidArgumentError(`batchSize must be BatchSize.Adaptive or an integer > 0, got ${String(batchSize)}`);
  }
  const maxNumBatches = o.maxNumBatches ?? 2;
  if (!positiveInt(maxNumBatches)) throw new InvalidArgumentError(`maxNumBatches must be an integer > 0, got ${String(maxNumBatches)}`);
  const ordering = o.ordering ?? Ordering.Strict;
  if (ordering !== Ordering.Strict && ordering !== Ordering.Loose) {
    throw new InvalidArgumentError(`ordering must be Ordering.Strict or Ordering.Loose, got ${String(ordering)}`);
  }
  const chunkSize = o.chunkSize ?? 1024;
  if (!positiveInt(chunkSize)) throw new InvalidArgumentError(`chunkSize must be an integer > 0, got ${String(chunkSize)}`);
  const deliveryTimeoutMs = o.deliveryTimeoutMs ?? 30_000;
  if (!positiveInt(deliveryTimeoutMs)) throw new InvalidArgumentError(`deliveryTimeoutMs must be an integer > 0, got ${String(deliveryTimeoutMs)}`);
  const perBatch = batchSize === BatchSize.Adaptive ? 1024 : batchSize;
  const maxPendingEvents = o.maxPendingEvents ?? Math.max(65_536, 2 * partitions * maxNumBatches * perBatch);
  if (!positiveInt(maxPendingEvents)) throw new InvalidArgumentError(`maxPendingEvents must be an integer > 0, got ${String(maxPendingEvents)}`);
  return { name, batchSize, maxNumBatches, strict: ordering === Ordering.Strict, chunkSize, deliveryTimeoutMs, maxPendingEvents };
}
