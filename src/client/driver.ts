/**
 * Entry point of the API: a connection to a log, picked by URL scheme, or an embedded
 * tributary broker on a thread of this process.
 *
 * ```ts
 * const driver = await Driver.embedded({ dir: "./data" });
 * await driver.createTopic("collisions", { partitions: 4 });
 * const topic = await driver.openTopic("collisions");
 * ```
 */
import { abortable } from "../core/abort.js";
import { BrokerError, ClosedError, InvalidArgumentError } from "../core/errors.js";
import { loggerProblem, stderrLogger, type Logger } from "../core/logger.js";
import type { PipelineSpecs, TopicDescription } from "../core/types.js";
import type { LogDriver } from "../drivers/contract.js";
import type { NatsConnectOptions } from "../drivers/jetstream/options.js";
import type { TributaryConnectOptions } from "../drivers/tributary/options.js";
import { connectDriver } from "../drivers/registry.js";
import type { PluginKind, PluginSpecInput } from "../pipeline/contracts.js";
import { loadPipeline } from "../pipeline/loader.js";
import { defaultPluginPolicy, resolveSpec, storedSpec, type PluginPolicy } from "../pipeline/spec.js";
import { ThreadPool, type ThreadPoolSize } from "../pipeline/thread-pool.js";
import type { Consumer } from "../consumer/consumer.js";
import { Producer, type CloseOptions, type CloseReport } from "../producer/producer.js";
import type { Worker } from "node:worker_threads";
import type { Registry } from "prom-client";
import { ProducerMetrics } from "./metrics.js";
import { TopicHandle } from "./topic-handle.js";

/** Options of `createTopic`. */
export interface TopicOptions {
  /** Number of partitions. Default 1. */
  partitions?: number;
  /** Copies of each partition, on logs that replicate (NATS JetStream). Default 1. */
  replicas?: number;
  /** When the topic exists already, return its description instead of failing with TOPIC_EXISTS (its settings are left as they are). */
  ifNotExists?: boolean;
  /** Validator: built-in name (`default`, `json-schema`), `"export:module"`, or `{ module, export, config }`. */
  validator?: PluginSpecInput;
  /** Partition selector: `round-robin` (default), `key-hash`, or a custom plugin. */
  partitionSelector?: PluginSpecInput;
  /** Serializer of metadata: `json` (default), `binary` (MessagePack), or a custom plugin. */
  serializer?: PluginSpecInput;
}

/** Where this application loads pipeline plugins from (see README "Pipeline plugins"). */
export interface PluginOptions {
  /** Directory relative plugin paths resolve against. Default: the working directory. */
  baseDir?: string;
  /** Directories whose files may be loaded as plugins. Default: `[baseDir]`. */
  allowDirs?: string[];
}

/** Options of `Driver.connect`. */
export interface ConnectOptions {
  /** How long to wait for the log to answer. Default 5000 ms. */
  timeoutMs?: number;
  /** Stops waiting for the log (rejecting with the signal's reason). */
  signal?: AbortSignal;
  /** Where plugins may be loaded from. */
  plugins?: PluginOptions;
  /** For `nats://` URLs: credentials and TLS of the NATS connection, passed through to nats.js. */
  nats?: NatsConnectOptions;
  /** Where the driver and its producers and consumers log (pino-compatible). Default: stderr. */
  logger?: Logger;
  /** Export the producers' metrics to this prom-client registry (see README "Metrics"). */
  metrics?: { registry: Registry };
  /** For `tributary://` and `tributarys://` URLs: a bearer token and TLS settings. */
  tributary?: TributaryConnectOptions;
}

/** What became of the events of every producer when a driver closed. */
export interface DriverCloseReport {
  producers: CloseReport[];
  acknowledged: number;
  failed: number;
  leftInWal: number;
  lost: number;
  cutShort: boolean;
}

/** Options of the embedded broker. */
export interface EmbeddedOptions {
  /** Data directory of the in-process broker. */
  dir: string;
  /** Port to listen on (127.0.0.1). Default 0: a free port. */
  port?: number;
  /** When appended batches are forced to disk; see README "The broker". */
  fsync?: "always" | "interval" | "never";
  /** Where plugins may be loaded from. */
  plugins?: PluginOptions;
  /** Where the driver and its producers and consumers log (pino-compatible). Default: stderr. */
  logger?: Logger;
  /** Export the producers' metrics to this prom-client registry (see README "Metrics"). */
  metrics?: { registry: Registry };
}

/** A broker this driver started and must stop. */
interface OwnedBroker {
  readonly url: string;
  readonly worker?: Worker;
  close(): Promise<void>;
}

const DEFAULT_PARTITIONS = 1;

export class Driver implements AsyncDisposable {
  readonly #log: LogDriver;
  readonly #policy: PluginPolicy;
  readonly #embedded: OwnedBroker | undefined;
  readonly #logger: Logger;
  readonly #metrics: ProducerMetrics | undefined;
  readonly #pools = new Set<ThreadPool>();
  /** Open producers and consumers, closed with the driver. */
  readonly #open = new Set<Producer | Consumer>();
  #closing: Promise<DriverCloseReport> | undefined;

  private constructor(log: LogDriver, policy: PluginPolicy, embedded: OwnedBroker | undefined, logger: Logger, metrics: ConnectOptions["metrics"]) {
    this.#log = log;
    this.#policy = policy;
    this.#embedded = embedded;
    this.#logger = logger;
    this.#metrics = metrics ? ProducerMetrics.of(metrics.registry) : undefined;
  }

  /**
   * Connects to a log: `tributary://host:port` (a `tributary serve` broker; a bare
   * `host:port` means the same) or `nats://host:port[,host:port…]` (NATS JetStream).
   * @throws BrokerError UNAVAILABLE when it does not answer within `timeoutMs`
   * @throws InvalidArgumentError for a URL no driver serves
   */
  static async connect(url: string, options: ConnectOptions = {}): Promise<Driver> {
    const policy = pluginPolicy(options.plugins);
    const logger = checkedLogger(options.logger);
    const connecting = connectDriver(url, { timeoutMs: options.timeoutMs, logger, tributary: options.tributary, nats: options.nats });
    // An abandoned connection is closed once it completes.
    if (options.signal) {
      connecting.then(
        (log) => void (options.signal!.aborted && log.close()),
        () => {},
      );
    }
    return new Driver(await abortable(connecting, options.signal), policy, undefined, logger, checkedMetrics(options.metrics));
  }

  /**
   * Starts a tributary broker in this process, on a thread of its own, over `dir`, and
   * connects to it on 127.0.0.1; `close()` stops it. Other processes can connect to
   * `driver.url`.
   */
  static async embedded(options: EmbeddedOptions): Promise<Driver> {
    if (!options?.dir) throw new InvalidArgumentError("Driver.embedded needs a data directory: { dir }");
    const policy = pluginPolicy(options.plugins);
    const logger = checkedLogger(options.logger);
    // Loaded on demand: a client of a remote log never loads the broker.
    const { startBrokerThread } = await import("../broker/broker-thread.js");
    const broker = await startBrokerThread({ dir: options.dir, port: options.port ?? 0, host: "127.0.0.1", fsync: options.fsync });
    try {
      return new Driver(await connectDriver(broker.url, { logger }), policy, broker, logger, checkedMetrics(options.metrics));
    } catch (err) {
      await broker.close();
      throw err;
    }
  }

  /** @internal The embedded broker's thread (for utilization measurements). */
  get brokerWorker(): Worker | undefined {
    return this.#embedded?.worker;
  }

  /** URL of the log (`tributary://host:port` of the embedded broker, for other processes). */
  get url(): string {
    return this.#log.url;
  }

  /**
   * Creates a topic with its partition count and pipeline; fails if it exists. Each
   * plugin is loaded once here, so a misspelled export or a missing module fails the
   * creation instead of every later push.
   * @throws InvalidArgumentError naming a bad option or plugin
   * @throws BrokerError TOPIC_EXISTS, INVALID_TOPIC_NAME, …
   */
  async createTopic(name: string, options: TopicOptions = {}): Promise<TopicDescription> {
    this.#checkOpen();
    const partitions = options.partitions ?? DEFAULT_PARTITIONS;
    if (!Number.isInteger(partitions) || partitions < 1) throw new InvalidArgumentError(`partitions must be an integer >= 1, got ${String(partitions)}`);
    const replicas = options.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1) throw new InvalidArgumentError(`replicas must be an integer >= 1, got ${String(replicas)}`);
    const pipeline: PipelineSpecs = {
      validator: storedSpec("validator", options.validator),
      partitionSelector: storedSpec("partitionSelector", options.partitionSelector),
      serializer: storedSpec("serializer", options.serializer),
    };
    try {
      await loadPipeline(this.#runnable(name, pipeline));
    } catch (err) {
      throw new InvalidArgumentError(`cannot create topic '${name}': ${(err as Error).message}`, { cause: err });
    }
    try {
      return await this.#log.createTopic(name, { partitions, replicas, pipeline });
    } catch (err) {
      if (options.ifNotExists && (err as BrokerError).code === "TOPIC_EXISTS") return this.#log.describeTopic(name);
      throw err;
    }
  }

  /**
   * Opens an existing topic; its plugins are resolved here, against this driver's plugin
   * options.
   * @throws BrokerError UNKNOWN_TOPIC
   * @throws InvalidArgumentError when a plugin of the topic may not be loaded here
   */
  async openTopic(name: string): Promise<TopicHandle> {
    this.#checkOpen();
    const description = await this.#log.describeTopic(name);
    const metrics = this.#metrics;
    return new TopicHandle(this.#log, description, this.#runnable(name, description.pipeline), this.#logger, metrics, (c) => {
      this.#open.add(c);
      c.onClosed = () => {
        this.#open.delete(c);
        if (c instanceof Producer) metrics?.forget(c);
      };
    });
  }

  /** Describes a topic: partitions, replicas, pipeline as stored, next offsets. */
  describeTopic(name: string): Promise<TopicDescription> {
    this.#checkOpen();
    return this.#log.describeTopic(name);
  }

  listTopics(): Promise<TopicDescription[]> {
    this.#checkOpen();
    return this.#log.listTopics();
  }

  /**
   * Deletes a topic and its events.
   * @throws BrokerError UNKNOWN_TOPIC when there is no such topic
   */
  async deleteTopic(name: string): Promise<void> {
    this.#checkOpen();
    if (!(await this.#log.deleteTopic(name))) throw new BrokerError("UNKNOWN_TOPIC", `topic '${name}' does not exist`);
  }

  /**
   * A pool of `threads` worker threads for the pipeline; 0 runs it inline on the main
   * thread; `"auto"` measures each pipeline's per-event cost on its first chunks and runs
   * it wherever the main thread spends less (one thread per core when on the pool).
   * The driver closes its pools on `close()`.
   */
  makeThreadPool(threads: ThreadPoolSize): ThreadPool {
    const pool = new ThreadPool(threads);
    this.#pools.add(pool);
    return pool;
  }

  /**
   * Closes producers (waiting at most `timeoutMs` for their events, see
   * `Producer.close`), consumers, pools, the connection, and the embedded broker; reports
   * what became of the events. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<DriverCloseReport> {
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  async #close(options: CloseOptions): Promise<DriverCloseReport> {
    const open = [...this.#open];
    const producers = await Promise.all(open.filter((c): c is Producer => c instanceof Producer).map((p) => p.close(options)));
    await Promise.all(open.filter((c) => !(c instanceof Producer)).map((c) => c.close().catch(() => {})));
    await Promise.all([...this.#pools].map((p) => p.close()));
    await this.#log.close();
    await this.#embedded?.close();
    const sum = (k: "acknowledged" | "failed" | "leftInWal" | "lost") => producers.reduce((n, r) => n + r[k], 0);
    return {
      producers,
      acknowledged: sum("acknowledged"),
      failed: sum("failed"),
      leftInWal: sum("leftInWal"),
      lost: sum("lost"),
      cutShort: producers.some((r) => r.cutShort),
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkOpen(): void {
    if (this.#closing) throw new ClosedError(`driver for ${this.#log.url} is closed`);
  }

  /** The stored pipeline in its runnable form here, or an error naming the topic and plugin. */
  #runnable(topic: string, pipeline: PipelineSpecs): PipelineSpecs {
    const resolve = (kind: PluginKind): PipelineSpecs[PluginKind] => {
      try {
        return resolveSpec(kind, pipeline[kind], this.#policy);
      } catch (err) {
        throw new InvalidArgumentError(`topic '${topic}': ${(err as Error).message}`, { cause: err });
      }
    };
    return { validator: resolve("validator"), partitionSelector: resolve("partitionSelector"), serializer: resolve("serializer") };
  }
}

function checkedMetrics(metrics: ConnectOptions["metrics"]): ConnectOptions["metrics"] {
  if (metrics !== undefined && typeof (metrics as { registry?: { registerMetric?: unknown } })?.registry?.registerMetric !== "function") {
    throw new InvalidArgumentError("metrics must be { registry } with a prom-client Registry");
  }
  return metrics;
}

function checkedLogger(logger: Logger | undefined): Logger {
  if (logger === undefined) return stderrLogger;
  const problem = loggerProblem(logger);
  if (problem) throw new InvalidArgumentError(problem);
  return logger;
}

function pluginPolicy(options: PluginOptions | undefined): PluginPolicy {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new InvalidArgumentError("plugins must be an object { baseDir?, allowDirs? }");
  }
  if (options?.allowDirs !== undefined && (!Array.isArray(options.allowDirs) || options.allowDirs.some((d) => typeof d !== "string"))) {
    throw new InvalidArgumentError("plugins.allowDirs must be an array of directory paths");
  }
  return defaultPluginPolicy(options);
}
