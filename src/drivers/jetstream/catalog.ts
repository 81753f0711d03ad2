/**
 * Topics on JetStream: a description per topic in the catalog bucket, one stream per
 * partition (see mapping.ts). Creation claims the catalog key atomically (a second
 * creator gets TOPIC_EXISTS), then adds the streams, and undoes both if a stream fails.
 * Deletion removes the streams, the topic's cursors, then the key.
 */
import type { JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import { BrokerError } from "../../core/errors.js";
import type { TopicDescription } from "../../core/types.js";
import type { TopicSettings } from "../contract.js";
import { Bucket } from "./buckets.js";
import { apiCode, JS_ERR, natsError } from "./errors.js";
import { catalogKey, checkTopicName, cursorKeysOf, partitionStreamConfig, streamName, type StoredTopic } from "./mapping.js";

const encoder = new TextEncoder();

export class Catalog {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly topics: Bucket,
    private readonly cursors: Bucket,
    private readonly duplicateWindowMs: number,
  ) {}

  async create(name: string, settings: TopicSettings): Promise<TopicDescription> {
    checkTopicName(name);
    const stored: StoredTopic = {
      name,
      partitions: settings.partitions,
      replicas: settings.replicas,
      pipeline: settings.pipeline,
      createdAtMs: Date.now(),
      duplicateWindowMs: this.duplicateWindowMs,
    };
    const kv = await this.topics.ensure(settings.replicas);
    await this.cursors.ensure(settings.replicas);
    try {
      await kv.create(catalogKey(name), encoder.encode(JSON.stringify(stored)));
    } catch (err) {
      if (apiCode(err) === JS_ERR.wrongLastSequence || /wrong last sequence|key exists/i.test(String((err as Error)?.message))) {
        throw new BrokerError("TOPIC_EXISTS", `topic '${name}' already exists`, { cause: err });
      }
      throw natsError(err, `creating topic '${name}'`);
    }
    const added: number[] = [];
    try {
      for (let p = 0; p < stored.partitions; p++) {
        await this.jsm.streams.add(partitionStreamConfig(stored, p) as unknown as StreamConfig);
        added.push(p);
      }
    } catch (err) {
      await Promise.all(added.map((p) => this.jsm.streams.delete(streamName(name, p)).catch(() => false)));
      await kv.purge(catalogKey(name)).catch(() => {});
      if (apiCode(err) === JS_ERR.streamNameInUse) {
        throw new BrokerError("TOPIC_EXISTS", `topic '${name}': stream ${streamName(name, added.length)} exists without a catalog entry (left by an interrupted delete?); delete it first`, { cause: err });
      }
      throw natsError(err, `creating the streams of topic '${name}' (${stored.partitions} partitions, ${stored.replicas} replicas)`);
    }
    return this.describeStored(stored);
  }

  /** The stored description, or UNKNOWN_TOPIC. */
  async get(name: string): Promise<StoredTopic> {
    const kv = await this.topics.open();
    let entry;
    try {
      entry = kv && (await kv.get(catalogKey(name)));
    } catch (err) {
      throw natsError(err, `reading topic '${name}'`);
    }
    if (!entry || entry.operation !== "PUT") throw new BrokerError("UNKNOWN_TOPIC", `topic '${name}' does not exist on JetStream`);
    return entry.json<StoredTopic>();
  }

  async describe(name: string): Promise<TopicDescription> {
    return this.describeStored(await this.get(name));
  }

  async list(): Promise<TopicDescription[]> {
    const kv = await this.topics.open();
    if (!kv) return [];
    const names: string[] = [];
    try {
      for await (const key of await kv.keys()) names.push(key);
    } catch (err) {
      throw natsError(err, "listing topics");
    }
    const out: TopicDescription[] = [];
    for (const key of names.sort()) {
      try {
        out.push(await this.describe(key.replaceAll("=", ".")));
      } catch (err) {
        // Deleted between the listing and now.
        if (!(err instanceof BrokerError && err.code === "UNKNOWN_TOPIC")) throw err;
      }
    }
    return out;
  }

  async delete(name: string): Promise<boolean> {
    checkTopicName(name);
    let stored: StoredTopic;
    try {
      stored = await this.get(name);
    } catch (err) {
      if (err instanceof BrokerError && err.code === "UNKNOWN_TOPIC") return false;
      throw err;
    }
    try {
      for (let p = stored.partitions - 1; p >= 0; p--) {
        await this.jsm.streams.delete(streamName(name, p)).catch((err: unknown) => {
          if (apiCode(err) !== JS_ERR.streamNotFound) throw err;
        });
      }
      const cursors = await this.cursors.open();
      if (cursors) {
        const keys: string[] = [];
        for await (const key of await cursors.keys(cursorKeysOf(name))) keys.push(key);
        for (const key of keys) await cursors.purge(key);
      }
      await (await this.topics.open())!.purge(catalogKey(name));
    } catch (err) {
      throw natsError(err, `deleting topic '${name}'`);
    }
    return true;
  }

  /** The description with each partition's next ID (its stream's last sequence) and size. */
  private async describeStored(stored: StoredTopic): Promise<TopicDescription> {
    const partitionInfo = await Promise.all(
      Array.from({ length: stored.partitions }, async (_, partition) => {
        try {
          const { state } = await this.jsm.streams.info(streamName(stored.name, partition));
          return { partition, nextOffset: state.last_seq, sizeBytes: state.bytes };
        } catch (err) {
          if (apiCode(err) === JS_ERR.streamNotFound) {
            throw new BrokerError("UNKNOWN_TOPIC", `topic '${stored.name}' has lost partition ${partition} (no stream ${streamName(stored.name, partition)}): delete and re-create it`, { cause: err });
          }
          throw natsError(err, `describing partition ${partition} of topic '${stored.name}'`);
        }
      }),
    );
    return {
      name: stored.name,
      partitions: stored.partitions,
      replicas: stored.replicas,
      pipeline: stored.pipeline,
      createdAtMs: stored.createdAtMs,
      partitionInfo,
    };
  }
}
