/** A handle on an existing topic: its layout and pipeline, and factories of producers and consumers. */
import { Producer } from "../producer/producer.js";
import type { ProducerOptions } from "../producer/options.js";
import type { PipelineSpecs } from "../pipeline/contracts.js";
import type { BrokerClient } from "../transport/broker-client.js";
import { Consumer, type ConsumerOptions } from "./consumer.js";
import { ThreadPool } from "./thread-pool.js";

export class TopicHandle {
  /** @internal Use `driver.openTopic(name)`. */
  constructor(
    private readonly client: BrokerClient,
    private readonly url: string,
    /** Topic name. */
    readonly name: string,
    /** Number of partitions. */
    readonly partitions: number,
    /** The validator, partition selector and serializer every producer of the topic runs. */
    readonly pipeline: PipelineSpecs,
    private readonly info: Awaited<ReturnType<BrokerClient["describeTopic"]>>,
    private readonly track: (closable: Producer | Consumer) => void,
  ) {}

  /**
   * Creates a producer. Without `threadPool` the pipeline runs inline on the main thread.
   * Close it with `await producer.close()` (or `await using`).
   */
  producer(options: ProducerOptions = {}): Producer {
    const pool = options.threadPool ?? inlinePool;
    const producer = new Producer({ url: this.url, topic: this.name, partitions: this.partitions, specs: this.pipeline }, pool, options);
    this.track(producer);
    return producer;
  }

  /** Creates a consumer reading the given partitions (default all), resuming by name. */
  consumer(options: ConsumerOptions): Consumer {
    const consumer = new Consumer(this.client, this.info, options);
    this.track(consumer);
    return consumer;
  }
}

const inlinePool = new ThreadPool(0);
