/**
 * Entry point of the API: a connection to a tributary broker, remote or embedded.
 *
 * ```ts
 * const driver = await Driver.embedded({ dir: "./data" });
 * await driver.createTopic("collisions", { partitions: 4 });
 * const topic = await driver.openTopic("collisions");
 * ```
 */
import { startBrokerThread, type BrokerThread } from "../broker/broker-thread.js";
import type { FsyncPolicy } from "../broker/partition-log.js";
import type { PluginSpecInput } from "../pipeline/contracts.js";
import { BrokerClient, parseBrokerUrl } from "../transport/broker-client.js";
import type { TopicInfo } from "../wire/protocol.js";
import { InvalidArgumentError } from "./errors.js";
import { ThreadPool, type ThreadPoolSize } from "./thread-pool.js";
import { TopicHandle } from "./topic-handle.js";
import { topicPipeline, toPluginSpecMsg } from "./topic-specs.js";
import type { Producer } from "../producer/producer.js";
import type { Consumer } from "./consumer.js";

/** Options of `createTopic`. */
export interface TopicOptions {
  /** Number of partitions. Default 1. */
  partitions?: number;
  /** Validator: built-in name (`default`, `json-schema`), `"export:module"`, or `{ module, export, config }`. */
  validator?: PluginSpecInput;
  /** Partition selector: `round-robin` (default), `key-hash`, or a custom plugin. */
  partitionSelector?: PluginSpecInput;
  /** Serializer of metadata: `json` (default), `binary` (MessagePack), or a custom plugin. */
  serializer?: PluginSpecInput;
}

/** Options of the embedded broker. */
export interface EmbeddedOptions {
  /** Data directory of the in-process broker. */
  dir: string;
  /** Port to listen on (127.0.0.1). Default 0: a free port. */
  port?: number;
  fsync?: FsyncPolicy;
}

export class Driver implements AsyncDisposable {
  private readonly pools = new Set<ThreadPool>();
  /** Open producers and consumers, closed with the driver. */
  private readonly open = new Set<Producer | Consumer>();
  private closed = false;

  private constructor(
    /** `tributary://host:port` of the broker. */
    readonly url: string,
    private readonly client: BrokerClient,
    private readonly embeddedBroker: BrokerThread | undefined,
  ) {}

  /**
   * Connects to a running broker (`tributary serve`).
   * @throws BrokerError UNAVAILABLE when it does not answer within `timeoutMs`
   */
  static async connect(url: string, options: { timeoutMs?: number } = {}): Promise<Driver> {
    parseBrokerUrl(url);
    const client = new BrokerClient(url);
    try {
      await client.waitForReady(options.timeoutMs ?? 5000);
    } catch (err) {
      client.close();
      throw err;
    }
    return new Driver(url.startsWith("tributary://") ? url : `tributary://${url}`, client, undefined);
  }

  /**
   * Starts a broker in this process, on a thread of its own, over `dir`, and connects to
   * it on 127.0.0.1; `close()` stops it. Other processes can connect to `driver.url`.
   */
  static async embedded(options: EmbeddedOptions): Promise<Driver> {
    if (!options?.dir) throw new InvalidArgumentError("Driver.embedded needs a data directory: { dir }");
    const broker = await startBrokerThread({ dir: options.dir, port: options.port ?? 0, host: "127.0.0.1", fsync: options.fsync });
    return new Driver(broker.url, new BrokerClient(broker.url), broker);
  }

  /** Creates a topic with its partition count and pipeline; fails if it exists. */
  async createTopic(name: string, options: TopicOptions = {}): Promise<void> {
    await this.client.createTopic({
      name,
      partitions: options.partitions ?? 1,
      validator: toPluginSpecMsg("validator", options.validator),
      partitionSelector: toPluginSpecMsg("partitionSelector", options.partitionSelector),
      serializer: toPluginSpecMsg("serializer", options.serializer),
    });
  }

  /** Opens an existing topic. @throws BrokerError UNKNOWN_TOPIC */
  async openTopic(name: string): Promise<TopicHandle> {
    const info: TopicInfo = await this.client.describeTopic(name);
    return new TopicHandle(this.client, this.url, info.name, info.partitions, topicPipeline(info), info, (c) => {
      this.open.add(c);
      c.onClosed = () => this.open.delete(c);
    });
  }

  async listTopics(): Promise<TopicInfo[]> {
    return this.client.listTopics();
  }

  async deleteTopic(name: string): Promise<void> {
    await this.client.deleteTopic(name);
  }

  /**
   * A pool of `threads` worker threads for the pipeline; 0 runs it inline on the main
   * thread; `"auto"` measures each pipeline's per-event cost on its first chunks and runs
   * it wherever the main thread spends less (one thread per core when on the pool).
   * The driver closes its pools on `close()`.
   */
  makeThreadPool(threads: ThreadPoolSize): ThreadPool {
    const pool = new ThreadPool(threads);
    this.pools.add(pool);
    return pool;
  }

  /** Closes consumers and producers (flushing them), pools, the connection, and the embedded broker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.open].map((c) => c.close().catch(() => {})));
    await Promise.all([...this.pools].map((p) => p.close()));
    this.client.close();
    await this.embeddedBroker?.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
