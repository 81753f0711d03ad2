/** Messages between the producer (main thread) and its transport thread. */
import type { MessagePort } from "node:worker_threads";
import type { AppenderSpec } from "../drivers/contract.js";

/** Main → transport, on the data port: one batch of one partition. */
export interface BatchMessage {
  t: "batch";
  partition: number;
  seq: number;
  count: number;
  /** Ms since epoch after which the batch fails with a delivery timeout. */
  deadline: number;
  /** Record blobs sent back to back as the batch's records (transferred, not copied). */
  parts: Uint8Array[];
}

/** Transport → main, on the data port: acks and failures, posted in bulk. */
export interface AcksMessage {
  t: "acks";
  /**
   * Flat groups of {@link ACK_FIELDS}: [partition, seq, firstEventId, count, idsAt].
   * `idsAt` is -1 when the batch's IDs are contiguous, else where its events' IDs start in `ids`.
   */
  acks: Float64Array;
  /** Per-event IDs of the batches whose IDs are not contiguous. */
  ids: Float64Array | undefined;
  failures: BatchFailure[];
}

/** Numbers per ack in {@link AcksMessage.acks}. */
export const ACK_FIELDS = 5;

export interface BatchFailure {
  partition: number;
  seq: number;
  /** "timeout" when the delivery timeout passed, "CLOSED" when the transport closed first; otherwise the log's error code. */
  code: string;
  message: string;
}

/** How the transport thread reaches the log. */
export interface TransportConfig {
  /** The driver's appender, built on the thread by module and export. */
  appender: AppenderSpec;
  deliveryTimeoutMs: number;
  /** First reconnect delay; doubles up to 2 s. */
  retryBackoffMs: number;
}

/** Counters the transport thread keeps. */
export interface TransportStats {
  batchesSent: number;
  batchesAcked: number;
  batchesResent: number;
  duplicatesAcked: number;
  reconnects: number;
  bytesSent: number;
  connected: boolean;
  lastError: string | undefined;
}

/** Control calls (Comlink) the transport thread answers. */
export interface TransportControl {
  open(config: TransportConfig, dataPort: MessagePort): Promise<void>;
  stats(): TransportStats;
  close(): Promise<void>;
}
