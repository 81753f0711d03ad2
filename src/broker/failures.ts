/** Refusals the broker answers with: a tributary error code plus a message naming the problem. */
import type { status } from "@grpc/grpc-js";
import { BrokerError } from "../core/errors.js";
import { GRPC_STATUS_OF } from "../protocol/error-codes.js";

export class BrokerFailure extends BrokerError {
  override name = "BrokerFailure";
  get grpcStatus(): status {
    return GRPC_STATUS_OF[this.code];
  }
}

/** A refused request that a quota of `limits.ts` stopped; the message names the quota. */
export function quotaExceeded(quota: string, limit: number, what: string): BrokerFailure {
  return new BrokerFailure("QUOTA_EXCEEDED", `${what}: the quota ${quota} is ${limit}`);
}

export { ERROR_CODE_KEY } from "../protocol/error-codes.js";
