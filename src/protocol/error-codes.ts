/**
 * How tributary error codes travel over gRPC: a gRPC status per code, plus the code
 * itself in a metadata entry, so a client gets the exact code back and not only the
 * coarser gRPC status.
 */
import grpc from "@grpc/grpc-js";
import { BrokerError, type BrokerErrorCode } from "../core/errors.js";

/** Metadata key that carries the tributary error code next to the gRPC status. */
export const ERROR_CODE_KEY = "tributary-error-code";

export const GRPC_STATUS_OF: Readonly<Record<BrokerErrorCode, grpc.status>> = {
  UNKNOWN_TOPIC: grpc.status.NOT_FOUND,
  TOPIC_EXISTS: grpc.status.ALREADY_EXISTS,
  INVALID_TOPIC_NAME: grpc.status.INVALID_ARGUMENT,
  BAD_PARTITION: grpc.status.OUT_OF_RANGE,
  BATCH_TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED,
  EVENT_TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED,
  MALFORMED_BATCH: grpc.status.INVALID_ARGUMENT,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  STORAGE: grpc.status.INTERNAL,
  // Stored events that fail their checksum or are missing: gRPC's name for it.
  CORRUPT: grpc.status.DATA_LOSS,
  QUOTA_EXCEEDED: grpc.status.RESOURCE_EXHAUSTED,
  // A cursor commit from an instance that a newer one of the same consumer replaced.
  FENCED: grpc.status.FAILED_PRECONDITION,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  UNKNOWN: grpc.status.UNKNOWN,
};

/** Turns a gRPC error into a BrokerError carrying the broker's error code. */
export function toBrokerError(err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  const e = err as grpc.ServiceError;
  const code = e?.metadata?.get(ERROR_CODE_KEY)?.[0];
  const message = e?.details || e?.message || String(err);
  if (typeof code === "string" && Object.hasOwn(GRPC_STATUS_OF, code)) return new BrokerError(code as BrokerErrorCode, message, { cause: err });
  if (e?.code === grpc.status.UNAVAILABLE || e?.code === grpc.status.DEADLINE_EXCEEDED || e?.code === grpc.status.CANCELLED) {
    return new BrokerError("UNAVAILABLE", `broker unavailable: ${message}`, { cause: err });
  }
  // grpc-js refuses a message above the channel's size limit before it is sent.
  if (e?.code === grpc.status.RESOURCE_EXHAUSTED) return new BrokerError("BATCH_TOO_LARGE", message, { cause: err });
  if (e?.code === grpc.status.UNAUTHENTICATED) return new BrokerError("UNAUTHENTICATED", message, { cause: err });
  if (e?.code === grpc.status.PERMISSION_DENIED) return new BrokerError("PERMISSION_DENIED", message, { cause: err });
  return new BrokerError("UNKNOWN", message, { cause: err });
}
