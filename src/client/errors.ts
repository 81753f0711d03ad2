/** Typed errors of the public API. Every one names what was wrong. */

/** Base class of every error tributary raises on purpose. */
export class TributaryError extends Error {
  override name = "TributaryError";
}

/** Bad argument to an API call (topic name, option, push input). */
export class InvalidArgumentError extends TributaryError {
  override name = "InvalidArgumentError";
}

/** Where in the pipeline an event failed. */
export type PipelineStage = "validator" | "partitionSelector" | "serializer" | "input";

/**
 * An event was rejected by the topic's pipeline: its validator threw, its partition
 * selector threw or returned a partition out of range, or its serializer threw.
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
  ) {
    super(`event #${eventIndex} rejected by the ${stage}: ${reason}`);
  }
}

/** Error codes the broker answers with (mirrors `ErrorCode` in proto/tributary.proto). */
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

/** The broker refused a request. */
export class BrokerError extends TributaryError {
  override name = "BrokerError";
  constructor(readonly code: BrokerErrorCode, message: string) {
    super(message);
  }
}

/** An event could not be acknowledged within the producer's `deliveryTimeoutMs`. */
export class DeliveryTimeoutError extends TributaryError {
  override name = "DeliveryTimeoutError";
  constructor(readonly eventIndex: number, readonly timeoutMs: number, cause?: string) {
    super(`event #${eventIndex} was not acknowledged within ${timeoutMs} ms${cause ? ` (last error: ${cause})` : ""}`);
  }
}

/** The producer or consumer was closed. */
export class ClosedError extends TributaryError {
  override name = "ClosedError";
}
