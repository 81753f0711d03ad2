/**
 * The partition manager: the registry of topics under one data directory, and every
 * operation the gRPC service exposes, in plain TypeScript (the service only translates).
 *
 * DATA/LOCK          exclusive lock (dir-lock.ts)
 * DATA/topics/NAME   one directory per topic (topic.ts)
 * DATA/staging/      topics being created: laid out here, then renamed into topics/
 * DATA/trash/        topics being deleted: renamed here, then removed
 * DATA/quarantine/   directories of unreadable topics whose name was created again
 */
import path from "node:path";
import { lockDataDir } from "./dir-lock.js";
import { FdCache } from "./fd-cache.js";
import { BrokerFailure, quotaExceeded } from "./failures.js";
import { consumerNameProblem, FSYNC_POLICIES, resolveLimits, STORAGE_DEFAULTS, topicNameProblem, type BrokerLimits, type FsyncPolicy } from "./limits.js";
import { stderrLogger, type BrokerLogger } from "./logger.js";
import type { AppendResult, PartitionLog, PartitionLogOptions } from "./partition-log.js";
import { pluginSpecProblem } from "./plugin-specs.js";
import type { StorageContext } from "./segment.js";
import { nodeStorageIO, type StorageIO } from "./storage-io.js";
import { newTopicId, Topic, TopicOpenError, type TopicMeta } from "./topic.js";
import { checkRecords, MalformedRecordsError } from "../core/records.js";
import type { CreateTopicRequest, TopicInfo } from "../protocol/protocol.js";

export interface BrokerOptions {
  /** Data directory; created when missing. */
  dir: string;
  /** When batches are forced to disk before they are acknowledged (see the README). */
  fsync?: FsyncPolicy;
  /** Period of the background fsync under `interval`. Default 100 ms. */
  fsyncIntervalMs?: number;
  /** Segment size before a new segment file starts. Default 64 MiB. */
  segmentBytes?: number;
  /** Limits and quotas; defaults in `limits.ts`. */
  limits?: Partial<BrokerLimits>;
  /** Where findings (damage, offline topics, a taken-over lock) are reported. Default: stderr. */
  logger?: BrokerLogger;
  /** @internal File-system calls (tests record or fail them). Default: node:fs. */
  io?: StorageIO;
  /** @internal IDs reserved ahead under `interval` (id-reservation.ts). */
  idReservationBlock?: number;
}

export class Broker {
  readonly limits: BrokerLimits;
  private readonly topics = new Map<string, Topic>();
  /** Topic directories that could not be opened, with the reason; their names stay taken. */
  private readonly offline = new Map<string, string>();
  private readonly dirs;
  private readonly ctx: StorageContext;
  private readonly logOptions: PartitionLogOptions;
  private readonly unlock: () => void;

  constructor(options: BrokerOptions) {
    const fsync = options.fsync ?? STORAGE_DEFAULTS.fsync;
    if (!FSYNC_POLICIES.includes(fsync)) {
      throw new BrokerFailure("INVALID_ARGUMENT", `fsync policy '${fsync}' is not one of ${FSYNC_POLICIES.join(", ")}`);
    }
    this.limits = resolveLimits(options.limits);
    const io = options.io ?? nodeStorageIO;
    const logger = options.logger ?? stderrLogger;
    this.ctx = { io, logger, fds: new FdCache(io, this.limits.maxOpenSegmentFiles), durable: fsync !== "never" };
    this.logOptions = {
      fsync,
      fsyncIntervalMs: options.fsyncIntervalMs ?? STORAGE_DEFAULTS.fsyncIntervalMs,
      segmentBytes: options.segmentBytes ?? STORAGE_DEFAULTS.segmentBytes,
      idReservationBlock: options.idReservationBlock ?? STORAGE_DEFAULTS.idReservationBlock,
      dedupe: { window: this.limits.dedupeWindow, maxProducers: this.limits.maxProducersPerPartition, idleMs: this.limits.producerIdleMs },
    };
    const at = (name: string): string => path.join(options.dir, name);
    this.dirs = { topics: at("topics"), staging: at("staging"), trash: at("trash"), quarantine: at("quarantine") };
    const created = !io.exists(options.dir);
    io.mkdir(options.dir);
    if (created) io.syncDir(path.dirname(path.resolve(options.dir)));
    this.unlock = lockDataDir(options.dir, logger);
    try {
      for (const d of [this.dirs.topics, this.dirs.staging, this.dirs.trash]) io.mkdir(d);
      // topics/ must survive a power loss as surely as the topics in it.
      io.syncDir(options.dir);
      // Leftovers of a create or delete that a crash interrupted.
      for (const d of [this.dirs.staging, this.dirs.trash]) for (const entry of io.readdir(d)) io.remove(path.join(d, entry));
      for (const name of io.readdir(this.dirs.topics)) {
        if (topicNameProblem(name)) continue;
        this.openTopic(name);
      }
    } catch (err) {
      this.close();
      throw err;
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
        `partition count ${partitions} is out of range: a topic has 1 to ${this.limits.maxPartitions} partitions (limit maxPartitions)`,
      );
    }
    for (const [kind, spec] of [["validator", req.validator], ["partitionSelector", req.partitionSelector], ["serializer", req.serializer]] as const) {
      const specProblem = pluginSpecProblem(kind, spec);
      if (specProblem) throw new BrokerFailure("INVALID_ARGUMENT", specProblem);
    }
    const topicCount = this.topics.size + this.offline.size - (this.offline.has(req.name) ? 1 : 0);
    if (topicCount >= this.limits.maxTopics) throw quotaExceeded("maxTopics", this.limits.maxTopics, `the broker has ${topicCount} topics`);
    const total = this.totalPartitions();
    if (total + partitions > this.limits.maxTotalPartitions) {
      throw quotaExceeded("maxTotalPartitions", this.limits.maxTotalPartitions, `the broker has ${total} partitions and topic '${req.name}' asks for ${partitions} more`);
    }
    const meta: TopicMeta = {
      name: req.name,
      id: newTopicId(),
      partitions,
      validator: req.validator,
      partitionSelector: req.partitionSelector,
      serializer: req.serializer,
      createdAtMs: Date.now(),
    };
    this.installTopic(meta);
    return this.describe(this.topics.get(req.name)!);
  }

  describeTopic(name: string): TopicInfo {
    return this.describe(this.topic(name));
  }

  listTopics(): TopicInfo[] {
    return [...this.topics.values()].sort((a, b) => a.meta.name.localeCompare(b.meta.name)).map((t) => this.describe(t));
  }

  /** Deletes a topic, also one left offline; its directory is gone once this returns. */
  deleteTopic(name: string): boolean {
    const topic = this.topics.get(name);
    if (!topic && !this.offline.has(name)) this.topic(name);
    topic?.close();
    this.topics.delete(name);
    this.offline.delete(name);
    this.discard(path.join(this.dirs.topics, name));
    return true;
  }

  /**
   * Checks and stores one batch. `topicId`, when given, must be the topic's current ID.
   * Throws BrokerFailure naming what is wrong.
   */
  append(topicName: string, partition: number, producerId: string, batchSeq: number, count: number, records: Uint8Array, topicId = ""): AppendResult {
    const log = this.partition(topicName, partition);
    const id = this.topics.get(topicName)!.meta.id;
    if (topicId && topicId !== id) {
      throw new BrokerFailure(
        "UNKNOWN_TOPIC",
        `topic '${topicName}' with ID ${topicId} does not exist any more: it was deleted and created again (now ID ${id}); reopen the topic`,
      );
    }
    if (!Number.isSafeInteger(batchSeq) || batchSeq < 0) throw new BrokerFailure("MALFORMED_BATCH", `batch sequence ${batchSeq} is not an integer from 0 to 2^53-1`);
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
      if (err instanceof BrokerFailure) throw err;
      if (err instanceof RangeError) throw new BrokerFailure("INVALID_ARGUMENT", err.message);
      throw new BrokerFailure("STORAGE", `could not store batch ${batchSeq}: ${(err as Error).message}`);
    }
  }

  /** The log of one partition, or a failure naming the unknown topic or partition. */
  partition(topicName: string, partition: number): PartitionLog {
    const topic = this.topic(topicName);
    const log = Number.isInteger(partition) ? topic.logs[partition] : undefined;
    if (!log) {
      throw new BrokerFailure("BAD_PARTITION", `topic '${topicName}' has no partition ${partition} (it has ${topic.logs.length})`);
    }
    return log;
  }

  /**
   * Stores a consumer's cursor; resolves once durable. `generation` 0 means the caller
   * does not use fencing, which works only while nobody claimed the cursor.
   */
  commitCursor(topicName: string, consumer: string, partition: number, nextOffset: number, generation = 0): Promise<void> {
    const cursors = this.cursorsFor(topicName, consumer, partition);
    if (!Number.isSafeInteger(nextOffset) || nextOffset < 0) throw new BrokerFailure("INVALID_ARGUMENT", `cursor offset ${nextOffset} is not an integer from 0 to 2^53-1`);
    if (!Number.isSafeInteger(generation) || generation < 0) throw new BrokerFailure("INVALID_ARGUMENT", `generation ${generation} is not a non-negative integer`);
    return cursors.commit(consumer, partition, nextOffset, generation);
  }

  /** The cursor and generation of a consumer; with `claim`, a new generation fences older instances. */
  async fetchCursor(topicName: string, consumer: string, partition: number, claim = false): Promise<{ nextOffset: number | undefined; generation: number }> {
    const cursors = this.cursorsFor(topicName, consumer, partition);
    const state = claim ? await cursors.claim(consumer, partition) : cursors.fetch(consumer, partition);
    return { nextOffset: state?.offset, generation: state?.generation ?? 0 };
  }

  close(): void {
    for (const topic of this.topics.values()) {
      try {
        topic.close();
      } catch (err) {
        this.ctx.logger.warn(`closing topic '${topic.meta.name}' failed: ${(err as Error).message}`);
      }
    }
    this.topics.clear();
    this.ctx.fds.closeAll();
    this.unlock?.();
  }

  private cursorsFor(topicName: string, consumer: string, partition: number) {
    const problem = typeof consumer === "string" ? consumerNameProblem(consumer, this.limits.maxConsumerNameBytes) : "consumer name is missing";
    if (problem) throw new BrokerFailure(problem.includes("maxConsumerNameBytes") ? "QUOTA_EXCEEDED" : "INVALID_ARGUMENT", problem);
    this.partition(topicName, partition);
    return this.topics.get(topicName)!.cursors;
  }

  private totalPartitions(): number {
    let n = 0;
    for (const t of this.topics.values()) n += t.meta.partitions;
    return n;
  }

  private openTopic(name: string): void {
    try {
      this.topics.set(name, Topic.open(this.ctx, path.join(this.dirs.topics, name), this.logOptions, this.limits.maxConsumersPerTopic));
    } catch (err) {
      const reason = err instanceof TopicOpenError ? err.message : `opening it failed: ${(err as Error).message}`;
      this.offline.set(name, reason);
      this.ctx.logger.warn(`topic '${name}' is offline: ${reason}; the other topics serve. Delete it, or create it again to start afresh (the old directory is kept in quarantine/)`);
    }
  }

  /**
   * Lays the topic out in staging/ and renames it into topics/: a crash leaves either no
   * topic or a whole one, and a failure leaves no directory and no open file behind.
   */
  private installTopic(meta: TopicMeta): void {
    const { io } = this.ctx;
    const staged = path.join(this.dirs.staging, `${meta.name}.${meta.id}`);
    const final = path.join(this.dirs.topics, meta.name);
    try {
      Topic.layOut(this.ctx, staged, meta);
      io.syncDir(this.dirs.staging);
      if (io.exists(final)) this.quarantine(meta.name, final);
      io.rename(staged, final);
      io.syncDir(this.dirs.topics);
    } catch (err) {
      io.remove(staged);
      throw new BrokerFailure("STORAGE", `could not create topic '${meta.name}': ${(err as Error).message}`);
    }
    try {
      this.topics.set(meta.name, Topic.open(this.ctx, final, this.logOptions, this.limits.maxConsumersPerTopic));
      this.offline.delete(meta.name);
    } catch (err) {
      this.discard(final);
      throw new BrokerFailure("STORAGE", `could not create topic '${meta.name}': ${(err as Error).message}`);
    }
  }

  /** Moves an unreadable topic's directory aside: its old data must not reappear under the new topic. */
  private quarantine(name: string, dir: string): void {
    const { io } = this.ctx;
    io.mkdir(this.dirs.quarantine);
    const target = path.join(this.dirs.quarantine, `${name}.${Date.now()}.${newTopicId()}`);
    io.rename(dir, target);
    this.ctx.logger.warn(`topic '${name}' is created again; the directory of the offline topic of that name was moved to ${target}`);
  }

  /** Removes a directory: renamed into trash/ first, so a crash midway cannot leave half a topic. */
  private discard(dir: string): void {
    const { io } = this.ctx;
    if (!io.exists(dir)) return;
    const trashed = path.join(this.dirs.trash, `${path.basename(dir)}.${newTopicId()}`);
    io.rename(dir, trashed);
    io.syncDir(path.dirname(dir));
    io.remove(trashed);
  }

  private topic(name: string): Topic {
    const topic = this.topics.get(name);
    if (!topic) {
      const problem = topicNameProblem(name);
      if (problem) throw new BrokerFailure("INVALID_TOPIC_NAME", problem);
      const offline = this.offline.get(name);
      if (offline) throw new BrokerFailure("UNKNOWN_TOPIC", `topic '${name}' is offline: ${offline}`);
      throw new BrokerFailure("UNKNOWN_TOPIC", `topic '${name}' does not exist`);
    }
    return topic;
  }

  private describe(topic: Topic): TopicInfo {
    const m = topic.meta;
    return {
      name: m.name,
      topicId: m.id,
      partitions: m.partitions,
      validator: m.validator,
      partitionSelector: m.partitionSelector,
      serializer: m.serializer,
      createdAtMs: m.createdAtMs,
      partitionInfo: topic.logs.map((log, partition) => ({ partition, nextOffset: log.nextOffset, sizeBytes: log.sizeBytes })),
    };
  }
}
