/** Producer options: their one table of defaults, and their checks. */
import { InvalidArgumentError } from "../core/errors.js";
import type { EventFuture } from "../core/future.js";
import { BatchSize, Ordering, type BatchSizeOption } from "../core/types.js";
import type { DriverCapabilities } from "../drivers/contract.js";
import type { ThreadPool } from "../pipeline/thread-pool.js";

export interface ProducerOptions {
  /** Producer name; the log dedupes re-sent batches by a producer ID derived from it. Default "producer". */
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
  /**
   * A batch leaves at most this long after its first event was queued (when a slot is
   * free). Default: at once for Adaptive, never by time alone for a fixed batch size.
   */
  lingerMs?: number;
  /** A batch leaves once its events fill this many bytes. Default 8 MiB, and at most the log's limit. */
  maxBatchBytes?: number;
  /**
   * A write-ahead log: batches are written to `wal.dir` (per topic and producer `name`)
   * before they go to the log, so that neither a log outage nor a crash of this process
   * loses an event whose `durable()` resolved. See README "Durable producer".
   */
  wal?: WalOptions;
}

/** The producer's write-ahead log. */
export interface WalOptions {
  /** Directory of the WAL; a producer uses `<dir>/<topic>/<name>/`. */
  dir: string;
  /**
   * When a batch counts as durable: `always` (default) once an fdatasync covered it
   * (group commit), surviving power loss; `interval` once written, fdatasync'ed every
   * `intervalMs`; `never` once written, left to the OS. Both of the latter survive a
   * crash of the process.
   */
  fsync?: "always" | "interval" | "never";
  /** Period of the background fdatasync under `interval`. Default 100 ms. */
  intervalMs?: number;
  /** Above this many bytes of WAL, `hasCapacity` is false and `ready()` waits. Default 1 GiB. */
  maxBytes?: number;
}

/** Every default of a producer, in one place. */
export const PRODUCER_DEFAULTS = Object.freeze({
  name: "producer",
  batchSize: BatchSize.Adaptive as BatchSizeOption,
  maxNumBatches: 2,
  ordering: Ordering.Strict,
  chunkSize: 1024,
  deliveryTimeoutMs: 30_000,
  /** Lower bound of the default `maxPendingEvents`. */
  minPendingEvents: 65_536,
  /** Batch size assumed by the default `maxPendingEvents` for Adaptive batches. */
  adaptiveBatchEstimate: 1024,
  /** First reconnect delay of the transport; doubles up to 2 s. */
  retryBackoffMs: 50,
  /** A chunk leaves early once its events carry this much data, whatever their count. */
  maxChunkDataBytes: 4 * 1024 * 1024,
  /** Caps of one batch (lowered further to the log's own limits). */
  maxBatchEvents: 65_536,
  maxBatchBytes: 8 * 1024 * 1024,
  wal: Object.freeze({
    fsync: "always" as const,
    intervalMs: 100,
    maxBytes: 1024 * 1024 * 1024,
    /** Segments are a fraction of maxBytes, so trimming frees space in steps, within these bounds. */
    minSegmentBytes: 64 * 1024,
    maxSegmentBytes: 64 * 1024 * 1024,
  }),
});

export interface ResolvedProducerOptions {
  name: string;
  batchSize: number | "adaptive";
  maxNumBatches: number;
  strict: boolean;
  chunkSize: number;
  deliveryTimeoutMs: number;
  maxPendingEvents: number;
  retryBackoffMs: number;
  maxChunkDataBytes: number;
  maxBatchEvents: number;
  maxBatchBytes: number;
  lingerMs: number;
  wal: { dir: string; fsync: "always" | "interval" | "never"; intervalMs: number; maxBytes: number; segmentBytes: number } | undefined;
}

const positiveInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;

function check(name: string, value: unknown): number {
  if (!positiveInt(value)) throw new InvalidArgumentError(`${name} must be an integer > 0, got ${String(value)}`);
  return value as number;
}

/** Checks the options against each other, the topic and the log's limits. */
export function resolveProducerOptions(o: ProducerOptions, partitions: number, log: DriverCapabilities): ResolvedProducerOptions {
  const d = PRODUCER_DEFAULTS;
  const name = o.name ?? d.name;
  if (typeof name !== "string" || name.length === 0 || name.length > 200) {
    throw new InvalidArgumentError("producer name must be a non-empty string of at most 200 characters");
  }
  const batchSize = o.batchSize ?? d.batchSize;
  if (batchSize !== BatchSize.Adaptive && !positiveInt(batchSize)) {
    throw new InvalidArgumentError(`batchSize must be BatchSize.Adaptive or an integer > 0, got ${String(batchSize)}`);
  }
  if (batchSize !== BatchSize.Adaptive && batchSize > log.maxBatchEvents) {
    throw new InvalidArgumentError(`batchSize ${batchSize} is above the log's limit of ${log.maxBatchEvents} events per batch`);
  }
  const maxNumBatches = check("maxNumBatches", o.maxNumBatches ?? d.maxNumBatches);
  const ordering = o.ordering ?? d.ordering;
  if (ordering !== Ordering.Strict && ordering !== Ordering.Loose) {
    throw new InvalidArgumentError(`ordering must be Ordering.Strict or Ordering.Loose, got ${String(ordering)}`);
  }
  const chunkSize = check("chunkSize", o.chunkSize ?? d.chunkSize);
  const deliveryTimeoutMs = check("deliveryTimeoutMs", o.deliveryTimeoutMs ?? d.deliveryTimeoutMs);
  const perBatch = batchSize === BatchSize.Adaptive ? d.adaptiveBatchEstimate : batchSize;
  const maxPendingEvents = check("maxPendingEvents", o.maxPendingEvents ?? Math.max(d.minPendingEvents, 2 * partitions * maxNumBatches * perBatch));
  const maxBatchBytes = Math.min(check("maxBatchBytes", o.maxBatchBytes ?? d.maxBatchBytes), log.maxBatchBytes);
  const lingerMs = o.lingerMs ?? (batchSize === BatchSize.Adaptive ? 0 : Infinity);
  if (!(lingerMs >= 0)) throw new InvalidArgumentError(`lingerMs must be a number >= 0, got ${String(lingerMs)}`);
  return {
    name,
    batchSize,
    maxNumBatches,
    strict: ordering === Ordering.Strict,
    chunkSize,
    deliveryTimeoutMs,
    maxPendingEvents,
    retryBackoffMs: d.retryBackoffMs,
    maxChunkDataBytes: d.maxChunkDataBytes,
    maxBatchEvents: Math.min(d.maxBatchEvents, log.maxBatchEvents),
    maxBatchBytes,
    lingerMs,
    wal: o.wal === undefined ? undefined : resolveWal(o.wal),
  };
}

function resolveWal(w: WalOptions): NonNullable<ResolvedProducerOptions["wal"]> {
  const d = PRODUCER_DEFAULTS.wal;
  if (typeof w !== "object" || w === null || typeof w.dir !== "string" || w.dir === "") {
    throw new InvalidArgumentError("wal must be { dir, fsync?, intervalMs?, maxBytes? } with a directory");
  }
  const fsync = w.fsync ?? d.fsync;
  if (fsync !== "always" && fsync !== "interval" && fsync !== "never") {
    throw new InvalidArgumentError(`wal.fsync must be "always", "interval" or "never", got ${String(fsync)}`);
  }
  const maxBytes = check("wal.maxBytes", w.maxBytes ?? d.maxBytes);
  const segmentBytes = Math.min(d.maxSegmentBytes, Math.max(d.minSegmentBytes, Math.floor(maxBytes / 8)));
  return { dir: w.dir, fsync, intervalMs: check("wal.intervalMs", w.intervalMs ?? d.intervalMs), maxBytes, segmentBytes };
}
