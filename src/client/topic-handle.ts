/** A handle on an existing topic: its layout and pipeline, and factories of producers and consumers. */
import type { PipelineSpecs, TopicDescription } from "../core/types.js";
import type { Logger } from "../core/logger.js";
import type { ProducerMetrics } from "./metrics.js";
import type { LogDriver } from "../drivers/contract.js";
import { ThreadPool } from "../pipeline/thread-pool.js";
import { Consumer, type ConsumerOptions } from "../consumer/consumer.js";
import { Producer } from "../producer/producer.js";
import type { ProducerOptions } from "../producer/options.js";

export class TopicHandle {
  readonly #log: LogDriver;
  readonly #logger: Logger;
  readonly #metrics: ProducerMetrics | undefined;
  readonly #track: (closable: Producer | Consumer) => void;

  /** @internal Use `driver.openTopic(name)`. */
  constructor(
    log: LogDriver,
    /** The topic as the log describes it (pipeline in its stored form). */
    readonly description: TopicDescription,
    /** The validator, partition selector and serializer every producer of the topic runs, resolved on this side. */
    readonly pipeline: PipelineSpecs,
    logger: Logger,
    metrics: ProducerMetrics | undefined,
    track: (closable: Producer | Consumer) => void,
  ) {
    this.#log = log;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#track = track;
  }

  /** Topic name. */
  get name(): string {
    return this.description.name;
  }

  /** Number of partitions. */
  get partitions(): number {
    return this.description.partitions;
  }

  /**
   * Creates a producer. Without `threadPool` the pipeline runs inline on the main thread.
   * Close it with `await producer.close()` (or `await using`).
   */
  producer(options: ProducerOptions = {}): Producer {
    const log = this.#log;
    const topic = this.description;
    const producer = new Producer(
      { topic, specs: this.pipeline, capabilities: log.capabilities, appender: (producerId) => log.appender(topic, producerId), logger: this.#logger, observe: this.#metrics && ((p) => this.#metrics!.observe(p)) },
      options.threadPool ?? inlinePool,
      options,
    );
    this.#track(producer);
    return producer;
  }

  /** Creates a consumer reading the given partitions (default all), resuming by name. */
  consumer(options: ConsumerOptions): Consumer {
    const consumer = new Consumer(this.#log, this.description, this.pipeline.serializer, options);
    this.#track(consumer);
    return consumer;
  }
}

const inlinePool = new ThreadPool(0);
