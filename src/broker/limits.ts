import { DEFAULT_WIRE_LIMITS } from "../protocol/limits.js";

/** Size limits the broker enforces; every violation is refused with a message naming it. */
export interface BrokerLimits {
  /** Largest record (metadata + data + 8 bytes of lengths). */
  maxEventBytes: number;
  /** Largest record blob of one batch. */
  maxBatchBytes: number;
  /** Most events in one batch. */
  maxBatchEvents: number;
  /** Most partitions a topic may have. */
  maxPartitions: number;
}

export const DEFAULT_LIMITS: BrokerLimits = {
  ...DEFAULT_WIRE_LIMITS,
  maxPartitions: 1024,
};

/** Topic names: letters, digits, '.', '_', '-'; 1 to 249 characters; not '.' or '..'. */
export const TOPIC_NAME_PATTERN = /^[A-Za-z0-9._-]{1,249}$/;

/** Returns the reason a topic name is invalid, or undefined when it is fine. */
export function topicNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string" || name.length === 0) return "topic name is empty";
  if (name.length > 249) return `topic name is ${name.length} characters long; at most 249`;
  if (name === "." || name === "..") return `topic name '${name}' is reserved`;
  if (!TOPIC_NAME_PATTERN.test(name)) {
    return `topic name '${name.slice(0, 60)}' has characters other than letters, digits, '.', '_' and '-'`;
  }
  return undefined;
}
