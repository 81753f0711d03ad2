/**
 * The tributary broker's appender: one gRPC Append stream per producer, re-opened after
 * failures. Runs on the producer's transport thread, built by {@link createAppender}.
 */
import { BrokerError } from "../../core/errors.js";
import type { AppendAck, AppendBatch, Appender, AppenderFactory } from "../contract.js";
import { appendError, BrokerClient, type AppendStream } from "./broker-client.js";
import type { TributaryConnectOptions } from "./options.js";

/** Options of the tributary appender (structured-cloneable: they cross to the transport thread). */
export interface TributaryAppenderOptions {
  url: string;
  topic: string;
  /**
   * ID of the topic as the producer opened it; every append carries it, so after the
   * topic is deleted and created again this producer is refused (UNKNOWN_TOPIC) instead
   * of writing into the new topic. Empty: not checked.
   */
  topicId: string;
  producerId: string;
  client: TributaryConnectOptions;
}

export class TributaryAppender implements Appender {
  private readonly client: BrokerClient;
  private stream: AppendStream | undefined;

  constructor(private readonly options: TributaryAppenderOptions) {
    this.client = new BrokerClient(options.url, options.client);
  }

  async connect(): Promise<void> {
    this.stream?.cancel();
    this.stream = undefined;
    await this.client.waitForReady(2000);
    this.stream = this.client.openAppendStream();
  }

  async send(batch: AppendBatch): Promise<AppendAck> {
    const stream = this.stream;
    if (!stream || stream.error) throw stream?.error ?? new BrokerError("UNAVAILABLE", "not connected to the broker");
    const res = await stream.append({
      topic: this.options.topic,
      topicId: this.options.topicId,
      partition: batch.partition,
      producerId: this.options.producerId,
      batchSeq: batch.seq,
      count: batch.count,
      records: batch.records,
    });
    const refused = appendError(res);
    if (refused) throw refused;
    return { firstEventId: Number(res.firstEventId), count: res.count, duplicate: res.duplicate };
  }

  async close(): Promise<void> {
    this.stream?.end();
    this.client.close();
  }
}

/** The {@link AppenderFactory} the transport thread calls. */
export const createAppender: AppenderFactory = (options) => new TributaryAppender(options as TributaryAppenderOptions);
