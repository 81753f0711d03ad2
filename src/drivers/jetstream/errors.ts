/**
 * NATS and JetStream failures as tributary's typed errors. What decides a retry is
 * `retriable`: everything that says "no answer now" (a timeout, no responders while a
 * stream elects its leader, a lost connection, JetStream briefly unavailable) is
 * UNAVAILABLE and retriable; refusals that would repeat are not.
 */
import { errors as natsErrors } from "@nats-io/transport-node";
import { JetStreamApiError } from "@nats-io/jetstream";
import { BrokerError, TributaryError, type BrokerErrorCode } from "../../core/errors.js";

/** JetStream API error codes the driver reacts to (nats-server's `err_code`). */
export const JS_ERR = Object.freeze({
  streamNotFound: 10059,
  streamNameInUse: 10058,
  wrongLastSequence: 10071,
  wrongLastMsgId: 10070,
  /** "JetStream system temporarily unavailable" (meta leader election). */
  temporarilyUnavailable: 10008,
  /** "insufficient resources". */
  insufficientResources: 10023,
  /** Replicas > 1 on a server that is not clustered. */
  replicasNotSupported: 10074,
  /** "no suitable peers for placement": more replicas than (live) cluster nodes. */
  noSuitablePeers: 10005,
  noMessageFound: 10037,
  /** "maximum messages/bytes exceeded" of a stream. */
  streamStoreFailed: 10077,
  messageTooLarge: 10054,
  jetStreamNotEnabled: 10076,
  jetStreamNotEnabledForAccount: 10039,
});

/** Codes of `err_code` that mean "try again later". */
const RETRIABLE_API: ReadonlySet<number> = new Set([JS_ERR.temporarilyUnavailable, JS_ERR.jetStreamNotEnabled]);

const API_CODES: ReadonlyMap<number, BrokerErrorCode> = new Map([
  [JS_ERR.streamNotFound, "UNKNOWN_TOPIC"],
  [JS_ERR.messageTooLarge, "EVENT_TOO_LARGE"],
  [JS_ERR.insufficientResources, "QUOTA_EXCEEDED"],
  [JS_ERR.streamStoreFailed, "STORAGE"],
  [JS_ERR.replicasNotSupported, "INVALID_ARGUMENT"],
  [JS_ERR.noSuitablePeers, "INVALID_ARGUMENT"],
]);

/** A refusal in a publish acknowledgement (`{"error": {...}}`), with JetStream's `err_code`. */
export class PubAckError extends Error {
  override name = "PubAckError";
  constructor(
    readonly code: number,
    readonly status: number,
    description: string,
  ) {
    super(description);
  }
}

/** The JetStream API `err_code` of an error, if it is one. */
export function apiCode(err: unknown): number | undefined {
  return err instanceof JetStreamApiError || err instanceof PubAckError ? err.code : undefined;
}

/** True for "nobody answered": no responders, a timeout, a closed or broken connection. */
export function isNoAnswer(err: unknown): boolean {
  return (
    err instanceof natsErrors.TimeoutError ||
    err instanceof natsErrors.NoRespondersError ||
    (err instanceof natsErrors.RequestError && (err.isNoResponders() || err.cause instanceof natsErrors.TimeoutError)) ||
    (err as Error)?.name === "JetStreamNotEnabled" ||
    err instanceof natsErrors.ClosedConnectionError ||
    err instanceof natsErrors.ConnectionError ||
    err instanceof natsErrors.DrainingConnectionError
  );
}

/**
 * A BrokerError for any failure of a NATS call, prefixed with what was being done. A
 * TributaryError passes through unchanged.
 */
export function natsError(err: unknown, doing: string): TributaryError {
  if (err instanceof TributaryError) return err;
  const detail = (err as Error)?.message ?? String(err);
  const code = apiCode(err);
  if (code !== undefined) {
    if (RETRIABLE_API.has(code)) return new BrokerError("UNAVAILABLE", `${doing}: ${detail}`, { cause: err });
    return new BrokerError(API_CODES.get(code) ?? "UNKNOWN", `${doing}: ${detail} (JetStream error ${code})`, { cause: err, retriable: false });
  }
  if (isNoAnswer(err)) {
    // nats.js reports "no responders" as "jetstream is not enabled": during an election
    // it only means that no stream leader listens yet.
    const why = (err as Error)?.name === "JetStreamNotEnabled" || (err instanceof natsErrors.RequestError && err.isNoResponders()) ? "no responder (no stream leader yet, or JetStream is off)" : detail;
    return new BrokerError("UNAVAILABLE", `${doing}: ${why}`, { cause: err });
  }
  if (err instanceof natsErrors.AuthorizationError || err instanceof natsErrors.UserAuthenticationExpiredError) {
    return new BrokerError("UNAUTHENTICATED", `${doing}: ${detail}`, { cause: err });
  }
  if (err instanceof natsErrors.PermissionViolationError) return new BrokerError("PERMISSION_DENIED", `${doing}: ${detail}`, { cause: err });
  if (/maximum payload/i.test(detail)) return new BrokerError("EVENT_TOO_LARGE", `${doing}: ${detail}`, { cause: err });
  return new BrokerError("UNKNOWN", `${doing}: ${detail}`, { cause: err });
}
