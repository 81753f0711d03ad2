/** The tributary broker behind the driver contract: catalog, reads and cursors over gRPC. */
import grpc from "@grpc/grpc-js";
import { InvalidArgumentError, type BrokerError } from "../../core/errors.js";
import type { EventID, TopicDescription } from "../../core/types.js";
import { DEFAULT_WIRE_LIMITS } from "../../protocol/limits.js";
import type {
  AppenderSpec,
  DriverConnectOptions,
  DriverCapabilities,
  LogDriver,
  PartitionReader,
  ReadBatch,
  ReadRequest,
  TopicSettings,
} from "../contract.js";
import type { TributaryAppenderOptions } from "./appender.js";
import { BrokerClient, parseBrokerAddress } from "./broker-client.js";
import type { TributaryConnectOptions } from "./options.js";
import { describeTopicInfo, toPluginSpecMsg } from "./specs.js";

/**
 * Limits are the broker's defaults (a broker configured with smaller ones refuses what
 * exceeds them, naming the limit); IDs are contiguous; a re-sent batch is recognised by
 * (producerId, partition, batchSeq).
 */
export const TRIBUTARY_CAPABILITIES: DriverCapabilities = Object.freeze({
  ...DEFAULT_WIRE_LIMITS,
  contiguousIds: true,
  dedupe: Object.freeze({ kind: "batch" as const }),
});

const APPENDER_MODULE = new URL("./appender.js", import.meta.url).href;

export class TributaryDriver implements LogDriver {
  readonly capabilities = TRIBUTARY_CAPABILITIES;

  private constructor(
    readonly url: string,
    private readonly client: BrokerClient,
    private readonly clientOptions: TributaryConnectOptions,
  ) {}

  /** Connects to `tributary://host:port` and waits until the broker answers. */
  static async connect(url: string, options: DriverConnectOptions & { tributary?: TributaryConnectOptions } = {}): Promise<TributaryDriver> {
    const { target, tls } = parseBrokerAddress(url);
    const clientOptions = options.tributary ?? {};
    // grpc-js logs process-wide to stderr; route it through the application's logger
    // (the logger of the driver connected last, since there is only one).
    const logger = options.logger;
    if (logger) grpc.setLogger({ error: (...args: unknown[]) => logger.warn({ source: "grpc-js" }, args.map(String).join(" ")) } as unknown as Console);
    const client = new BrokerClient(url, clientOptions);
    try {
      await client.waitForReady(options.timeoutMs ?? 5000);
    } catch (err) {
      client.close();
      throw err;
    }
    return new TributaryDriver(`${tls ? "tributarys" : "tributary"}://${target}`, client, clientOptions);
  }

  async createTopic(name: string, settings: TopicSettings): Promise<TopicDescription> {
    if (settings.replicas !== 1) {
      throw new InvalidArgumentError(`the tributary broker keeps one copy of each partition: replicas must be 1, got ${settings.replicas}`);
    }
    const info = await this.client.createTopic({
      name,
      partitions: settings.partitions,
      validator: toPluginSpecMsg(settings.pipeline.validator),
      partitionSelector: toPluginSpecMsg(settings.pipeline.partitionSelector),
      serializer: toPluginSpecMsg(settings.pipeline.serializer),
    });
    return describeTopicInfo(info);
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    return describeTopicInfo(await this.client.describeTopic(name));
  }

  async listTopics(): Promise<TopicDescription[]> {
    return (await this.client.listTopics()).map(describeTopicInfo);
  }

  async deleteTopic(name: string): Promise<boolean> {
    try {
      return await this.client.deleteTopic(name);
    } catch (err) {
      if ((err as BrokerError).code === "UNKNOWN_TOPIC") return false;
      throw err;
    }
  }

  read(request: ReadRequest): PartitionReader {
    const stream = this.client.read({
      topic: request.topic,
      partition: request.partition,
      start: request.start,
      follow: request.follow,
      maxEvents: request.maxEvents ?? 0,
    });
    return {
      cancel: () => stream.cancel(),
      async *[Symbol.asyncIterator](): AsyncGenerator<ReadBatch> {
        for await (const res of stream) {
          if (res.count === 0) continue;
          // A plain Uint8Array view of the frame (protobufjs hands out a Buffer, whose
          // slice() would not copy): events then carry the declared type, still uncopied.
          const records = new Uint8Array(res.records.buffer, res.records.byteOffset, res.records.byteLength);
          yield { partition: res.partition, count: res.count, records, firstEventId: res.firstEventId, timestampMs: res.timestampMs };
        }
      },
    };
  }

  commitCursor(topic: string, consumer: string, partition: number, nextOffset: EventID, generation?: number): Promise<void> {
    return this.client.commitCursor(topic, consumer, partition, nextOffset, generation);
  }

  claimCursor(topic: string, consumer: string, partition: number): Promise<{ nextOffset: EventID | undefined; generation: number }> {
    return this.client.claimCursor(topic, consumer, partition);
  }

  fetchCursor(topic: string, consumer: string, partition: number): Promise<EventID | undefined> {
    return this.client.fetchCursor(topic, consumer, partition);
  }

  appender(topic: TopicDescription, producerId: string): AppenderSpec {
    const options: TributaryAppenderOptions = { url: this.url, topic: topic.name, topicId: topic.id ?? "", producerId, client: this.clientOptions };
    return { module: APPENDER_MODULE, export: "createAppender", options };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

