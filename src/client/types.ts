/** Shared public types of the client API. */

/** An event's ID: its offset in its partition, from 0, contiguous. */
export type EventID = number;

/**
 * How many events go into one batch to the broker.
 * A number sends a batch at that many events (or on flush); `BatchSize.Adaptive` sends
 * as soon as the transport has room and lets batches grow while the broker is busy.
 */
export const BatchSize = {
  /** Send when the transport has room; batch sizes follow the load. */
  Adaptive: "adaptive",
} as const;
export type BatchSizeOption = number | typeof BatchSize.Adaptive;

/** Order guarantee of a producer. */
export enum Ordering {
  /** Every partition receives this producer's events in push order. */
  Strict = "strict",
  /** Chunks may overtake each other; every event still lands exactly once. */
  Loose = "loose",
}

/** Event metadata: a JSON-compatible value, or a JSON text. */
export type Metadata = unknown;

/** Event data: bytes, or several byte views sent back to back as one payload. */
export type EventData = ArrayBufferView | ArrayBuffer | readonly (ArrayBufferView | ArrayBuffer)[];

/** Per-push options. */
export interface PushOptions {
  /** Explicit partition; overrides the topic's partition selector. */
  partition?: number;
  /** Key handed to the partition selector (`key-hash` hashes it). */
  key?: string;
}
