/** Refusals the broker answers with: a tributary error code plus a message naming the problem. */
import { status } from "@grpc/grpc-js";
import type { BrokerErrorCode } from "../client/errors.js";

const grpcStatusOf: Record<BrokerErrorCode, status> = {
  UNKNOWN_TOPIC: status.NOT_FOUND,
  TOPIC_EXISTS: status.ALREADY_EXISTS,
  INVALID_TOPIC_NAME: status.INVALID_ARGUMENT,
  BAD_PARTITION: status.OUT_OF_RANGE,
  BATCH_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  EVENT_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  MALFORMED_BATCH: status.INVALID_ARGUMENT,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  STORAGE: status.INTERNAL,
  // Stored events that fail their checksum or are missing: gRPC's name for it.
  CORRUPT: status.DATA_LOSS,
  QUOTA_EXCEEDED: status.RESOURCE_EXHAUSTED,
  // A cursor commit from an instance that a newer one of the same consumer replaced.
  FENCED: status.FAILED_PRECONDITION,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAVAILABLE: status.UNAVAILABLE,
  UNKNOWN: status.UNKNOWN,
};

export class BrokerFailure extends Error {
  constructor(readonly code: BrokerErrorCode, message: string) {
    super(message);
  }
  get grpcStatus(): status {
    return grpcStatusOf[this.code];
  }
}

/** A refused request that a quota of `limits.ts` stopped; the message names the quota. */
export function quotaExceeded(quota: string, limit: number, what: string): BrokerFailure {
  return new BrokerFailure("QUOTA_EXCEEDED", `${what}: the quota ${quota} is ${limit}`);
}

/** Metadata key that carries the tributary error code next to the gRPC status. */
export const ERROR_CODE_KEY = "tributary-error-code";
