/**
 * What a producer tells a metrics exporter. Counters and gauges are read when the
 * exporter is scraped (`counters()`), so they cost nothing per event; only batch sizes
 * and ack latencies are observed as they happen, once per batch, and only when an
 * observer is installed.
 */
export interface ProducerObserver {
  /** A batch left for the transport thread. */
  batchSent(partition: number, events: number, bytes: number): void;
  /** A batch was acknowledged, `latencyMs` after its first event was pushed. */
  batchAcked(partition: number, events: number, latencyMs: number): void;
}

/** A producer's counters and gauges at one moment. */
export interface ProducerCounters {
  topic: string;
  producer: string;
  pushed: number;
  /** Per partition. */
  acknowledged: readonly number[];
  /** Per error code (VALIDATION, DELIVERY_TIMEOUT, a log's code, …). */
  failed: ReadonlyMap<string, number>;
  pending: number;
  batchesInFlight: number;
  /** Bytes of the WAL, when the producer has one. */
  walBytes: number | undefined;
}
