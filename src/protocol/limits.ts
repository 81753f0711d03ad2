/**
 * The tributary broker's default size limits: part of the wire contract, because the
 * tributary driver advertises them as its capabilities (the producer sizes events and
 * batches by them) and the broker enforces them.
 */
export const DEFAULT_WIRE_LIMITS = Object.freeze({
  /** Largest record (8 bytes of lengths + metadata + data). */
  maxEventBytes: 1024 * 1024,
  /** Largest record blob of one batch. */
  maxBatchBytes: 16 * 1024 * 1024,
  /** Most events in one batch. */
  maxBatchEvents: 1_000_000,
});
