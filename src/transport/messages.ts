/** Messages between the producer (main thread) and its transport thread. */
import type { MessagePort } from "node:worker_threads";
import type { AppenderSpec } from "../drivers/contract.js";
import type { WalMeta } from "./wal/wal-claim.js";
import type { WalFsync } from "./wal/wal.js";

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
  /** With a WAL: pairs [partition, seq] of the batches that became durable. */
  durable: Float64Array | undefined;
  /** With a WAL: its size in bytes after this message's events. */
  walBytes: number | undefined;
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
  /** The producer's write-ahead log, claimed by the producer (see wal/wal-claim.ts). */
  wal?: {
    dir: string;
    meta: WalMeta;
    fsync: WalFsync;
    intervalMs: number;
    segmentBytes: number;
  };
}

/** What opening a session tells the producer. */
export interface SessionOpened {
  /** With a WAL: per partition, the sequence its next batch must take. */
  nextSeqs: [partition: number, seq: number][];
  /** With a WAL: batches (and their events) of an earlier run re-sent first. */
  replayed: { batches: number; events: number };
  walBytes: number;
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

/**
 * Control calls (Comlink) the transport thread answers. One thread serves every producer
 * of the process, each in a session of its own with its own data port.
 */
export interface TransportControl {
  open(session: number, config: TransportConfig, dataPort: MessagePort): Promise<SessionOpened>;
  stats(session: number): TransportStats | undefined;
  close(session: number): Promise<void>;
}
