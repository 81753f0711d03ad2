/**
 * The log-driver contract: everything the producer, the consumer and the client need
 * from a log backend (the tributary broker, NATS JetStream, …). A driver module exports
 * `connect(url, options)` returning a {@link LogDriver}; `registry.ts` maps URL schemes
 * to driver modules.
 *
 * Appends do not run where the driver was connected: the producer's transport thread
 * builds its own {@link Appender} from the module and export the driver names in
 * {@link LogDriver.appender}, with structured-cloneable options (plugins and drivers are
 * referenced by module, never shipped as closures).
 *
 * A driver never imports producer, consumer, client or broker code.
 */
import type { Logger } from "../core/logger.js";
import type { EventID, PipelineSpecs, StartPosition, TopicDescription } from "../core/types.js";

/** What a backend can do, and its limits; the producer sizes events and batches by them. */
export interface DriverCapabilities {
  /** Largest record (8 bytes of lengths + metadata + data) one event may be. */
  readonly maxEventBytes: number;
  /** Largest record blob of one appended batch. */
  readonly maxBatchBytes: number;
  /** Most events in one appended batch. */
  readonly maxBatchEvents: number;
  /**
   * True when the events of one appended batch get the IDs `first … first + count - 1`;
   * false when the appender answers one ID per event (`AppendAck.ids`).
   */
  readonly contiguousIds: boolean;
  /**
   * How a re-sent batch is recognised and stored once: by `(producerId, partition,
   * batchSeq)` for as long as the log keeps the producer's recent batches (`batch`), or by
   * a per-event message ID within a time window (`message-id`).
   */
  readonly dedupe: { readonly kind: "batch" } | { readonly kind: "message-id"; readonly windowMs: number };
}

/** What `createTopic` stores. */
export interface TopicSettings {
  partitions: number;
  /** Copies of each partition; drivers without replication accept only 1. */
  replicas: number;
  /** The pipeline in its stored form (built-ins by name, custom plugins as written). */
  pipeline: PipelineSpecs;
}

/** Reading one partition. */
export interface ReadRequest {
  topic: string;
  partition: number;
  start: StartPosition;
  /** Keep waiting for new events at the end (true), or end the stream there (false). */
  follow: boolean;
  /** Stop after this many events (0 or absent: no limit). */
  maxEvents?: number;
}

/**
 * A run of events of one partition, as a record blob (src/core/records.ts). IDs are
 * `firstEventId + i` unless `ids` gives each event's own; times are `timestampMs` unless
 * `timestamps` gives each event's own.
 */
export interface ReadBatch {
  partition: number;
  count: number;
  records: Uint8Array;
  firstEventId: EventID;
  ids?: ArrayLike<EventID>;
  timestampMs: number;
  timestamps?: ArrayLike<number>;
}

/** The events of one partition from a start position, in ID order. */
export interface PartitionReader extends AsyncIterable<ReadBatch> {
  /** Stops reading; iteration then ends without an error. */
  cancel(): void;
}

/** Where the transport thread finds a driver's appender: `import(module)[export](options)`. */
export interface AppenderSpec {
  /** Module specifier the transport thread imports (a driver module of this package). */
  module: string;
  /** Name of the exported {@link AppenderFactory}. */
  export: string;
  /** Structured-cloneable options handed to the factory. */
  options: unknown;
}

/** One batch of one partition, as the transport thread sends it. */
export interface AppendBatch {
  partition: number;
  /** Per partition and producer: 0, 1, 2, … in push order; identifies a re-sent batch. */
  seq: number;
  count: number;
  records: Uint8Array;
}

/** The log's answer to an appended batch. */
export interface AppendAck {
  /** ID of the first event (with contiguous IDs, event i has `firstEventId + i`). */
  firstEventId: EventID;
  count: number;
  /** True when the log had stored this batch before (a re-send): the IDs are the original ones. */
  duplicate: boolean;
  /** Each event's ID, when the driver's IDs are not contiguous. */
  ids?: Float64Array;
}

/**
 * Sends batches of one producer to the log; lives on the producer's transport thread.
 * `send` rejects with a `TributaryError`: when `retriable` is set, delivery reconnects and
 * re-sends the batch (the log stores it once); otherwise the batch's events fail with
 * that error.
 */
export interface Appender {
  /** Opens, or re-opens after a failure, the connection; rejects when the log is unreachable. */
  connect(): Promise<void>;
  /**
   * Sends one batch. Batches of one partition are acknowledged in the order they were
   * sent; an appender may have many batches in flight.
   */
  send(batch: AppendBatch): Promise<AppendAck>;
  close(): Promise<void>;
}

/** What an appender module exports under {@link AppenderSpec.export}. */
export type AppenderFactory = (options: unknown) => Appender;

/** A connection to a log backend: catalog, reads, consumer cursors, and how to append. */
export interface LogDriver {
  /** The URL it was connected with, normalized (for example `tributary://127.0.0.1:9292`). */
  readonly url: string;
  readonly capabilities: DriverCapabilities;

  createTopic(name: string, settings: TopicSettings): Promise<TopicDescription>;
  /** @throws BrokerError UNKNOWN_TOPIC */
  describeTopic(name: string): Promise<TopicDescription>;
  listTopics(): Promise<TopicDescription[]>;
  /** Deletes the topic and its events; false when it did not exist. */
  deleteTopic(name: string): Promise<boolean>;

  /** Reads one partition; errors (unknown topic or partition, …) surface from iteration. */
  read(request: ReadRequest): PartitionReader;

  /**
   * Stores `nextOffset` (the ID after the last processed event) for a consumer name. With
   * a `generation` from {@link LogDriver.claimCursor}, a log that fences refuses the
   * commit (BrokerError FENCED) once a newer instance claimed the cursor.
   */
  commitCursor(topic: string, consumer: string, partition: number, nextOffset: EventID, generation?: number): Promise<void>;
  /** The stored cursor, or undefined when the name has none for this partition. */
  fetchCursor(topic: string, consumer: string, partition: number): Promise<EventID | undefined>;
  /**
   * Optional, for logs that fence consumers: fetches the cursor and claims it for a new
   * instance of the consumer; its commits carry the returned generation.
   */
  claimCursor?(topic: string, consumer: string, partition: number): Promise<{ nextOffset: EventID | undefined; generation: number }>;

  /** How a producer of `topic` with this ID appends, from its transport thread. */
  appender(topic: TopicDescription, producerId: string): AppenderSpec;

  close(): Promise<void>;
}

/** Options every driver's `connect` takes. */
export interface DriverConnectOptions {
  /** How long to wait for the log to answer. Default 5 s. */
  timeoutMs?: number;
  /** Where the driver logs what its client library reports. */
  logger?: Logger;
}

/** What a driver module exports. */
export interface DriverModule {
  connect(url: string, options: DriverConnectOptions & Record<string, unknown>): Promise<LogDriver>;
}
