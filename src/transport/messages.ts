/** Messages between the producer (main thread) and its transport thread. */
import type { MessagePort } from "node:worker_threads";

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
  /** Flat quadruples [partition, seq, firstEventId, count]. */
  acks: Float64Array;
  failures: BatchFailure[];
}

export interface BatchFailure {
  partition: number;
  seq: number;
  /** "timeout" when the delivery timeout passed, "CLOSED" when the transport closed first; otherwise a broker error code. */
  code: string;
  message: string;
}

/** How the transport thread reaches the log. */
export interface TransportConfig {
  /** Which driver: the tributary broker over gRPC. */
  driver: "tributary";
  url: string;
  topic: string;
  producerId: string;
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
