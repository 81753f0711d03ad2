/**
 * Every limit, quota and storage default of the broker, in one place. A refusal names
 * the limit by the key it has here, so an operator knows what to raise
 * (`tributary serve --limit maxTopics=5000`).
 */
import { DEFAULT_WIRE_LIMITS } from "../protocol/limits.js";

/** Limits the broker enforces; every violation is refused with a message naming it. */
export interface BrokerLimits {
  /** Largest record (metadata + data + 8 bytes of lengths). */
  maxEventBytes: number;
  /** Largest record blob of one batch. */
  maxBatchBytes: number;
  /** Most events in one batch. */
  maxBatchEvents: number;
  /** Most partitions one topic may have. */
  maxPartitions: number;
  /** Most topics on the broker. */
  maxTopics: number;
  /** Most partitions of all topics together: each active segment holds two file descriptors. */
  maxTotalPartitions: number;
  /** Most Append and Read streams open at once, over all connections. */
  maxOpenStreams: number;
  /** Most consumer names with a stored cursor, per topic. */
  maxConsumersPerTopic: number;
  /** Longest consumer name, in UTF-8 bytes. */
  maxConsumerNameBytes: number;
  /**
   * File descriptors kept open for reading closed (non-active) segments; they are opened
   * on demand and the least recently used is closed past this budget.
   */
  maxOpenSegmentFiles: number;
  /** Bytes a Read stream may have sent but not yet seen leave (flow control). */
  readStreamBufferBytes: number;
  /** Batches per producer ID and partition remembered to answer a re-send with its IDs. */
  dedupeWindow: number;
  /** Producer IDs remembered per partition; the least recently active are forgotten first. */
  maxProducersPerPartition: number;
  /** A producer ID idle this long on a partition is forgotten (ms). */
  producerIdleMs: number;
}

export const DEFAULT_LIMITS: Readonly<BrokerLimits> = Object.freeze({
  ...DEFAULT_WIRE_LIMITS,
  maxPartitions: 1024,
  maxTopics: 1000,
  maxTotalPartitions: 4096,
  maxOpenStreams: 1024,
  maxConsumersPerTopic: 1000,
  maxConsumerNameBytes: 255,
  maxOpenSegmentFiles: 64,
  readStreamBufferBytes: 256 * 1024,
  dedupeWindow: 1024,
  maxProducersPerPartition: 1024,
  // A producer re-sends only within its delivery timeout (30 s by default): ten minutes
  // of silence means it is gone, or it is a new incarnation with a new ID.
  producerIdleMs: 10 * 60_000,
});

/** Checks and merges limits given by a caller; throws a RangeError naming a bad key. */
export function resolveLimits(given: Partial<BrokerLimits> = {}): BrokerLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(DEFAULT_LIMITS, key)) throw new RangeError(`unknown broker limit '${key}'; known: ${Object.keys(DEFAULT_LIMITS).join(", ")}`);
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`broker limit ${key} must be a positive integer, got ${String(value)}`);
    limits[key as keyof BrokerLimits] = value;
  }
  return limits;
}

/** When appended batches are forced to disk before they are acknowledged. */
export type FsyncPolicy = "always" | "interval" | "never";
export const FSYNC_POLICIES: readonly FsyncPolicy[] = ["always", "interval", "never"];

/** Storage defaults (options of `startBroker`). */
export const STORAGE_DEFAULTS = Object.freeze({
  /** Chosen from `npm run bench:broker -- --fsync always,interval`: see the README. */
  fsync: "always" as FsyncPolicy,
  /** Period of the background fdatasync under `interval`. */
  fsyncIntervalMs: 100,
  /** A segment is closed and a new one started past this size. */
  segmentBytes: 64 * 1024 * 1024,
  /**
   * Event IDs reserved on disk ahead of the log under `interval` (and extended when half
   * is used), so an ID acknowledged before its batch reached the disk is never given out
   * again after a power loss. The cost is one small fdatasync per half block.
   */
  idReservationBlock: 1 << 20,
  /** The cursor log is rewritten once it is this many times larger than its live entries. */
  cursorCompactionRatio: 4,
  /** ...and at least this large (bytes). */
  cursorCompactionMinBytes: 64 * 1024,
});

/** Topic names: letters, digits, '.', '_', '-'; 1 to 249 characters; not '.' or '..'. */
export const TOPIC_NAME_PATTERN = /^[A-Za-z0-9._-]{1,249}$/;

/** Returns the reason a topic name is invalid, or undefined when it is fine. */
export function topicNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string" || name.length === 0) return "topic name is empty";
  if (name.length > 249) return `topic name is ${name.length} characters long; at most 249`;
  if (name === "." || name === "..") return `topic name '${name}' is reserved`;
  if (!TOPIC_NAME_PATTERN.test(name)) {
    return `topic name '${name.slice(0, 60)}' has characters other than letters, digits, '.', '_' and '-'`;
  }
  return undefined;
}

/** Returns the reason a consumer name is refused, or undefined when it is fine. */
export function consumerNameProblem(name: string, maxBytes: number): string | undefined {
  if (name.length === 0) return "consumer name is empty";
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > maxBytes) return `consumer name is ${bytes} bytes long; the limit maxConsumerNameBytes is ${maxBytes}`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return "consumer name contains control characters";
  return undefined;
}
