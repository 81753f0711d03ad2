/** Shared public types of the client API. */

/** An event's ID: its position in its partition, increasing with every event (contiguous from 0 on the tributary broker). */
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
  /**
   * Called once with the event's outcome: `(undefined, id, partition)` when acknowledged,
   * `(error, undefined, partition)` when it failed (partition -1 if none was chosen). No
   * Promise is made for it; a callback that throws is logged, not rethrown.
   */
  onDelivery?: (error: Error | undefined, id: EventID | undefined, partition: number) => void;
}

/** Where reading a partition starts: its first event, the next appended one, an event ID, or an append time (ms since epoch). */
export type StartPosition = "earliest" | "latest" | { offset: number } | { time: number };

/**
 * Reference to a pipeline plugin: which module, which export, and the config handed to it.
 * `export` defaults to `"default"`; `config` must survive `JSON.stringify`, because it is
 * stored with the topic and cloned into every worker.
 */
export type PluginSpec = { module: string; export?: string; config?: unknown };

/** The three plugin references of a topic's pipeline. */
export interface PipelineSpecs {
  validator: PluginSpec;
  partitionSelector: PluginSpec;
  serializer: PluginSpec;
}

/** A topic as the log describes it. */
export interface TopicDescription {
  name: string;
  /**
   * The topic's identity where the log has one: it changes when the topic is deleted and
   * created again under the same name, so a producer of the old topic is refused instead
   * of writing into the new one (the tributary broker's topic ID).
   */
  id?: string;
  partitions: number;
  /** Copies of every partition the log keeps (1 on the tributary broker). */
  replicas: number;
  /**
   * The pipeline as stored with the topic: built-ins by name, custom plugins as their
   * creator wrote them (resolved on each producing side, see README "Pipeline plugins").
   */
  pipeline: PipelineSpecs;
  /** Creation time, ms since epoch. */
  createdAtMs: number;
  /** Per partition: the ID the next event gets, and the bytes stored (when the log tells). */
  partitionInfo: readonly { partition: number; nextOffset: EventID; sizeBytes?: number }[];
}
