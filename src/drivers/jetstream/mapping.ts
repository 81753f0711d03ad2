/**
 * How a tributary topic lies in JetStream (README "Scale out with NATS JetStream"):
 *
 * - partition p of topic T is the stream `TRIB_<T'>_<p>` with the one subject
 *   `tributary.<T'>.<p>`, where T' is T with every `.` written as `=` (stream names and
 *   subject tokens cannot hold dots; topic names never hold `=`, so the mapping is 1:1);
 * - one message per event; its payload is the event's tributary record
 *   `[u32 LE metadata length][u32 LE data length][metadata][data]` (src/core/records.ts);
 * - event ID = stream sequence − 1, so IDs start at 0 and, with nothing ever deleted from
 *   a partition stream, are contiguous;
 * - headers: `Nats-Msg-Id: <producer tag>:<partition>:<batch seq>:<index>`, one
 *   expectation (`Nats-Expected-Last-Msg-Id` or `Nats-Expected-Last-Sequence`), and the
 *   event's key and headers when it has them (`Tributary-Key`, `Tributary-H-<name>`);
 * - the topic's description (partitions, replicas, pipeline specs, creation time) is the
 *   JSON value of key T' in the KV bucket `tributary_topics`; cursors are keys
 *   `<T'>.<base64url(consumer)>.<partition>` of the KV bucket `tributary_cursors`.
 */
import { createHash } from "node:crypto";
import { BrokerError } from "../../core/errors.js";
import type { PipelineSpecs } from "../../core/types.js";
import { JETSTREAM_DEFAULTS } from "./defaults.js";

const D = JETSTREAM_DEFAULTS;

/** JetStream's publish headers the appender writes. */
export const HEADERS = Object.freeze({
  msgId: "Nats-Msg-Id",
  expectedLastMsgId: "Nats-Expected-Last-Msg-Id",
  expectedLastSeq: "Nats-Expected-Last-Sequence",
  /** An event's key. */
  key: "Tributary-Key",
  /** Prefix of an event's own headers: `Tributary-H-<name>`. */
  userPrefix: "Tributary-H-",
});

const TOPIC_NAME = /^[A-Za-z0-9._-]+$/;

/** Checks a topic name (the tributary alphabet, and a length that fits a stream name). */
export function checkTopicName(name: string): void {
  if (typeof name !== "string" || !TOPIC_NAME.test(name) || name.length > D.maxTopicNameLength) {
    throw new BrokerError(
      "INVALID_TOPIC_NAME",
      `topic name ${JSON.stringify(name)} is invalid on JetStream: use letters, digits, '.', '_' and '-', at most ${D.maxTopicNameLength} characters`,
    );
  }
}

/** The topic's name as one stream-name, subject and KV-key token. */
export function topicToken(topic: string): string {
  return topic.replaceAll(".", "=");
}

export function streamName(topic: string, partition: number): string {
  return `${D.streamPrefix}${topicToken(topic)}_${partition}`;
}

export function subjectOf(topic: string, partition: number): string {
  return `${D.subjectPrefix}.${topicToken(topic)}.${partition}`;
}

/** Catalog key of a topic. */
export const catalogKey = topicToken;

/** Cursor key of (topic, consumer, partition); the consumer name may hold any character. */
export function cursorKey(topic: string, consumer: string, partition: number): string {
  return `${topicToken(topic)}.${Buffer.from(consumer, "utf8").toString("base64url")}.${partition}`;
}

/** KV key filter of every cursor of a topic. */
export function cursorKeysOf(topic: string): string {
  return `${topicToken(topic)}.*.*`;
}

/**
 * A short, stable tag of a producer ID for its message IDs: the server keeps every ID of
 * the duplicate window in memory, so 22 characters (132 bits of SHA-256) instead of the
 * producer's name plus a UUID.
 */
export function producerTag(producerId: string): string {
  return createHash("sha256").update(producerId).digest("base64url").slice(0, 22);
}

/** `Nats-Msg-Id` of event `index` of batch `seq` of a producer in a partition. */
export function messageId(tag: string, partition: number, seq: number, index: number): string {
  return `${tag}:${partition}:${seq}:${index}`;
}

/** What the catalog stores per topic (the JSON value of its key). */
export interface StoredTopic {
  name: string;
  partitions: number;
  replicas: number;
  pipeline: PipelineSpecs;
  createdAtMs: number;
  /** Duplicate window of its streams, ms. */
  duplicateWindowMs: number;
}

/** Stream configuration of one partition. */
export function partitionStreamConfig(topic: StoredTopic, partition: number) {
  return {
    name: streamName(topic.name, partition),
    subjects: [subjectOf(topic.name, partition)],
    description: `tributary topic '${topic.name}' partition ${partition} of ${topic.partitions}`,
    retention: "limits",
    storage: "file",
    discard: "old",
    num_replicas: topic.replicas,
    // Nanoseconds.
    duplicate_window: topic.duplicateWindowMs * 1_000_000,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    max_msg_size: -1,
    allow_direct: true,
  } as const;
}
