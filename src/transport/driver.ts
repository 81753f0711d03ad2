/**
 * The seam between batching and the log: a transport driver sends one batch and answers
 * with its first event ID. The tributary gRPC driver is the default; a JetStream driver
 * plugs in here without touching the producer.
 */
import { appendError, BrokerClient, type AppendStream, type BrokerClientOptions } from "./broker-client.js";
import { BrokerError } from "../client/errors.js";

export interface OutgoingBatch {
  partition: number;
  seq: number;
  count: number;
  records: Uint8Array;
}

export interface BatchAck {
  firstEventId: number;
  count: number;
  duplicate: boolean;
}

export interface TransportDriver {
  /** Opens (or re-opens after a failure) the connection; rejects when unreachable. */
  connect(): Promise<void>;
  /**
   * Sends a batch. Resolves with its ack; rejects with a BrokerError — code UNAVAILABLE
   * when the connection failed (the batch may be re-sent), any other code when the log
   * refused the batch (re-sending would not help).
   */
  send(batch: OutgoingBatch): Promise<BatchAck>;
  close(): Promise<void>;
}

/** Driver for the tributary broker: one gRPC Append stream, re-opened after failures. */
export class TributaryDriver implements TransportDriver {
  private readonly client: BrokerClient;
  private stream: AppendStream | undefined;
  /**
   * ID of the topic as first described; every append carries it, so after the topic is
   * deleted and created again this producer is refused (UNKNOWN_TOPIC) instead of
   * writing into the new topic. Kept across reconnects on purpose.
   */
  private topicId: string | undefined;

  constructor(url: string, private readonly topic: string, private readonly producerId: string, clientOptions?: BrokerClientOptions) {
    this.client = new BrokerClient(url, clientOptions);
  }

  async connect(): Promise<void> {
    this.stream?.cancel();
    this.stream = undefined;
    await this.client.waitForReady(2000);
    if (this.topicId === undefined) {
      // A missing topic is reported by the appends themselves (UNKNOWN_TOPIC per batch).
      this.topicId = await this.client.describeTopic(this.topic).then(
        (info) => info.topicId ?? "",
        (err: BrokerError) => (err.code === "UNAVAILABLE" ? Promise.reject(err) : undefined),
      );
    }
    this.stream = this.client.openAppendStream();
  }

  async send(batch: OutgoingBatch): Promise<BatchAck> {
    const stream = this.stream;
    if (!stream || stream.error) throw new BrokerError("UNAVAILABLE", stream?.error?.message ?? "not connected");
    const res = await stream.append({
      topic: this.topic,
      partition: batch.partition,
      producerId: this.producerId,
      batchSeq: batch.seq,
      count: batch.count,
      records: batch.records,
      topicId: this.topicId ?? "",
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
