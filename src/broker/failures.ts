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

/** Metadata key that carries the tributary error code next to the gRPC status. */
export const ERROR_CODE_KEY = "tributary-error-code";
