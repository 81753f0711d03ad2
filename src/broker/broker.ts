/**
 * The partition manager: the registry of topics under one data directory, and every
 * operation the gRPC service exposes, in plain TypeScript (the service only translates).
 */
import fs from "node:fs";
import path from "node:path";
import { BrokerFailure } from "./failures.js";
import { DEFAULT_LIMITS, topicNameProblem, type BrokerLimits } from "./limits.js";
import { FSYNC_POLICIES, type AppendResult, type FsyncPolicy, type PartitionLog } from "./partition-log.js";
import { Topic, type TopicMeta } from "./topic.js";
import { checkRecords, MalformedRecordsError } from "../core/records.js";
import type { CreateTopicRequest, TopicInfo } from "../protocol/protocol.js";

export interface BrokerOptions {
  /** Data directory; created when missing. */
  dir: string;
  /** When batches are forced to disk before they are acknowledged. Default `interval`. */
  fsync?: FsyncPolicy;
  /** Period of the background fsync under `interval`. Default 100 ms. */
  fsyncIntervalMs?: number;
  /** Segment size before a new segment file starts. Default 64 MiB. */
  segmentBytes?: number;
  /** Size limits. */
  limits?: Partial<BrokerLimits>;
}

export class Broker {
  readonly limits: BrokerLimits;
  private readonly topics = new Map<string, Topic>();
  private readonly topicsDir: string;
  private readonly logOptions;

  constructor(options: BrokerOptions) {
    const fsync = options.fsync ?? "interval";
    if (!FSYNC_POLICIES.includes(fsync)) {
      throw new BrokerFailure("INVALID_ARGUMENT", `fsync policy '${fsync}' is not one of ${FSYNC_POLICIES.join(", ")}`);
    }
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.logOptions = {
      fsync,
      fsyncIntervalMs: options.fsyncIntervalMs ?? 100,
      segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024,
      dedupeWindow: 4096,
    };
    this.topicsDir = path.join(options.dir, "topics");
    fs.mkdirSync(this.topicsDir, { recursive: true });
    for (const name of fs.readdirSync(this.topicsDir)) {
      if (topicNameProblem(name)) continue;
      const topic = Topic.open(path.join(this.topicsDir, name), this.logOptions);
      if (topic) this.topics.set(name, topic);
    }
  }

  createTopic(req: CreateTopicRequest): TopicInfo {
    const problem = topicNameProblem(req.name);
    if (problem) throw new BrokerFailure("INVALID_TOPIC_NAME", problem);
    if (this.topics.has(req.name)) throw new BrokerFailure("TOPIC_EXISTS", `topic '${req.name}' already exists`);
    const partitions = req.partitions;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > this.limits.maxPartitions) {
      throw new BrokerFailure(
        "INVALID_ARGUMENT",
        `partition count ${partitions} is out of range: a topic has 1 to ${this.limits.maxPartitions} partitions`,
      );
    }
    for (const [kind, spec] of [["validator", req.validator], ["partitionSelector", req.partitionSelector], ["serializer", req.serializer]] as const) {
      if (spec?.configJson) {
        try {
          JSON.parse(spec.configJson);
        } catch {
          throw new BrokerFailure("INVALID_ARGUMENT", `${kind} config is not valid JSON`);
        }
      }
    }
    const meta: TopicMeta = {
      name: req.name,
      partitions,
      validator: req.validator,
      partitionSelector: req.partitionSelector,
      serializer: req.serializer,
      createdAtMs: Date.now(),
    };
    const topic = Topic.create(path.join(this.topicsDir, req.name), meta, this.logOptions);
    this.topics.set(req.name, topic);
    return this.describe(topic);
  }

  describeTopic(name: string): TopicInfo {
    return this.describe(this.topic(name));
  }

  listTopics(): TopicInfo[] {
    return [...this.topics.values()].sort((a, b) => a.meta.name.localeCompare(b.meta.name)).map((t) => this.describe(t));
  }

  deleteTopic(name: string): boolean {
    const topic = this.topic(name);
    this.topics.delete(name);
    topic.close();
    fs.rmSync(topic.dir, { recursive: true, force: true });
    return true;
  }

  /** Checks and stores one batch. Throws BrokerFailure naming what is wrong. */
  append(topicName: string, partition: number, producerId: string, batchSeq: number, count: number, records: Uint8Array): AppendResult {
    const log = this.partition(topicName, partition);
    if (!Number.isInteger(count) || count < 1) {
      throw new BrokerFailure("MALFORMED_BATCH", `batch ${batchSeq} declares ${count} records; a batch holds at least one`);
    }
    if (count > this.limits.maxBatchEvents) {
      throw new BrokerFailure("BATCH_TOO_LARGE", `batch ${batchSeq} has ${count} events; the limit is ${this.limits.maxBatchEvents}`);
    }
    if (records.byteLength > this.limits.maxBatchBytes) {
      throw new BrokerFailure(
        "BATCH_TOO_LARGE",
        `batch ${batchSeq} is ${records.byteLength} bytes; the limit is ${this.limits.maxBatchBytes} bytes`,
      );
    }
    try {
      checkRecords(records, count, this.limits.maxEventBytes);
    } catch (err) {
      if (err instanceof MalformedRecordsError) throw new BrokerFailure("MALFORMED_BATCH", `batch ${batchSeq}: ${err.message}`);
      throw new BrokerFailure("EVENT_TOO_LARGE", `batch ${batchSeq}: ${(err as Error).message}`);
    }
    try {
      return log.append(producerId, batchSeq, count, records);
    } catch (err) {
      if (err instanceof RangeError) throw new BrokerFailure("INVALID_ARGUMENT", err.message);
      throw new BrokerFailure("STORAGE", `could not store batch ${batchSeq}: ${(err as Error).message}`);
    }
  }

  /** The log of one partition, or a failure naming the unknown topic or partition. */
  partition(topicName: string, partition: number): PartitionLog {
    const topic = this.topic(topicName);
    const log = topic.logs[partition];
    if (!Number.isInteger(partition) || !log) {
      throw new BrokerFailure("BAD_PARTITION", `topic '${topicName}' has no partition ${partition} (it has ${topic.logs.length})`);
    }
    return log;
  }

  commitCursor(topicName: string, consumer: string, partition: number, nextOffset: number): void {
    if (!consumer) throw new BrokerFailure("INVALID_ARGUMENT", "consumer name is empty");
    this.partition(topicName, partition);
    this.topic(topicName).commitCursor(consumer, partition, nextOffset);
  }

  fetchCursor(topicName: string, consumer: string, partition: number): number | undefined {
    this.partition(topicName, partition);
    return this.topic(topicName).fetchCursor(consumer, partition);
  }

  close(): void {
    for (const topic of this.topics.values()) topic.close();
    this.topics.clear();
  }

  private topic(name: string): Topic {
    const topic = this.topics.get(name);
    if (!topic) {
      const problem = topicNameProblem(name);
      throw problem ? new BrokerFailure("INVALID_TOPIC_NAME", problem) : new BrokerFailure("UNKNOWN_TOPIC", `topic '${name}' does not exist`);
    }
    return topic;
  }

  private describe(topic: Topic): TopicInfo {
    const m = topic.meta;
    return {
      name: m.name,
      partitions: m.partitions,
      validator: m.validator,
      partitionSelector: m.partitionSelector,
      serializer: m.serializer,
      createdAtMs: m.createdAtMs,
      partitionInfo: topic.logs.map((log, partition) => ({ partition, nextOffset: log.nextOffset, sizeBytes: log.sizeBytes })),
    };
  }
}
