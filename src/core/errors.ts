/**
 * Typed errors of the public API. Every one names what was wrong and carries:
 * - `code`: a stable string to branch on (never parse messages);
 * - `retriable`: whether trying the same thing again later may succeed (delivery re-sends
 *   a batch only when its error is retriable, never by looking at codes);
 * - `cause`: the underlying error, through the standard `ErrorOptions`.
 */

/** Options every tributary error accepts: the standard `cause`. */
export type TributaryErrorOptions = ErrorOptions;

/** Base class of every error tributary raises on purpose. */
export class TributaryError extends Error {
  override name = "TributaryError";
  /** Stable code of the condition. */
  readonly code: string;
  /** True when the same operation may succeed if tried again later. */
  readonly retriable: boolean;

  constructor(message: string, options?: TributaryErrorOptions & { code?: string; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? "TRIBUTARY";
    this.retriable = options?.retriable ?? false;
  }
}

/** Bad argument to an API call (topic name, option, plugin reference, push input). */
export class InvalidArgumentError extends TributaryError {
  override name = "InvalidArgumentError";
  constructor(message: string, options?: TributaryErrorOptions) {
    super(message, { ...options, code: "INVALID_ARGUMENT", retriable: false });
  }
}

/** Where in the pipeline an event failed. */
export type PipelineStage = "validator" | "partitionSelector" | "serializer" | "input";

/**
 * An event was rejected by the topic's pipeline: its validator threw, its partition
 * selector threw or returned a partition out of range, its serializer threw, or the input
 * itself was bad (stage `input`).
 */
export class ValidationError extends TributaryError {
  override name = "ValidationError";
  constructor(
    /** Position of the event in this producer's push sequence (0-based). */
    readonly eventIndex: number,
    /** Which stage failed. */
    readonly stage: PipelineStage,
    /** The reason given by the stage. */
    readonly reason: string,
    options?: TributaryErrorOptions,
  ) {
    super(`event #${eventIndex} rejected by the ${stage}: ${reason}`, { ...options, code: "VALIDATION", retriable: false });
  }
}

/**
 * Error codes of the log (the tributary broker's `ErrorCode` in proto/tributary.proto,
 * and what other drivers map their refusals to).
 */
export type BrokerErrorCode =
  | "UNKNOWN_TOPIC"
  | "TOPIC_EXISTS"
  | "INVALID_TOPIC_NAME"
  | "BAD_PARTITION"
  | "BATCH_TOO_LARGE"
  | "EVENT_TOO_LARGE"
  | "MALFORMED_BATCH"
  | "INVALID_ARGUMENT"
  | "STORAGE"
  | "CORRUPT"
  | "QUOTA_EXCEEDED"
  | "FENCED"
  | "UNAUTHENTICATED"
  | "PERMISSION_DENIED"
  | "UNAVAILABLE"
  | "UNKNOWN";

/**
 * Codes for which trying again may succeed: the log was unreachable or failed in a way
 * that says nothing about the request (a re-sent batch is deduplicated by the log).
 */
const RETRIABLE_CODES: ReadonlySet<BrokerErrorCode> = new Set(["UNAVAILABLE", "UNKNOWN"]);

/** The log (the tributary broker, or another driver's backend) refused or failed a request. */
export class BrokerError extends TributaryError {
  override name = "BrokerError";
  declare readonly code: BrokerErrorCode;
  constructor(code: BrokerErrorCode, message: string, options?: TributaryErrorOptions & { retriable?: boolean }) {
    super(message, { ...options, code, retriable: options?.retriable ?? RETRIABLE_CODES.has(code) });
  }
}

/** An event could not be acknowledged within the producer's `deliveryTimeoutMs`. */
export class DeliveryTimeoutError extends TributaryError {
  override name = "DeliveryTimeoutError";
  constructor(
    readonly eventIndex: number,
    readonly timeoutMs: number,
    lastError?: string,
    options?: TributaryErrorOptions,
  ) {
    super(`event #${eventIndex} was not acknowledged within ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ""}`, {
      ...options,
      code: "DELIVERY_TIMEOUT",
      // The log may take it later: pushing the event again is reasonable.
      retriable: true,
    });
  }
}

/** The producer, consumer or driver was closed. */
export class ClosedError extends TributaryError {
  override name = "ClosedError";
  constructor(message: string, options?: TributaryErrorOptions) {
    super(message, { ...options, code: "CLOSED", retriable: false });
  }
}

/** An event's metadata could not be decoded with the topic's serializer. */
export class MetadataDecodeError extends TributaryError {
  override name = "MetadataDecodeError";
  constructor(
    readonly partition: number,
    readonly id: number,
    reason: string,
    options?: TributaryErrorOptions,
  ) {
    super(`cannot decode the metadata of event ${id} in partition ${partition}: ${reason}`, { ...options, code: "METADATA_DECODE", retriable: false });
  }
}
