/**
 * The JetStream appender: lives on the producer's transport thread, with its own NATS
 * connection, and writes each partition through a {@link PartitionChain}. Built by
 * {@link createAppender} from structured-cloneable options.
 */
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { BrokerError, InvalidArgumentError } from "../../core/errors.js";
import { checkRecords, MalformedRecordsError, recordLength } from "../../core/records.js";
import type { AppendAck, AppendBatch, Appender, AppenderFactory } from "../contract.js";
import { JETSTREAM_DEFAULTS } from "./defaults.js";
import { producerTag, streamName, subjectOf } from "./mapping.js";
import { openConnection, type NatsEndpoint } from "./options.js";
import { PartitionChain } from "./partition-chain.js";
import { lastSequence } from "./stream-state.js";

/** Options of the JetStream appender (structured-cloneable: they cross to the transport thread). */
export interface JetStreamAppenderOptions {
  endpoint: NatsEndpoint;
  topic: string;
  partitions: number;
  producerId: string;
  /** Largest record (one message payload). */
  maxEventBytes: number;
  ackTimeoutMs: number;
  timeoutMs: number;
}

export class JetStreamAppender implements Appender {
  private nc: NatsConnection | undefined;
  private chains = new Map<number, PartitionChain>();
  private jsm: Promise<JetStreamManager> | undefined;
  private readonly tag: string;
  private closed = false;

  constructor(private readonly options: JetStreamAppenderOptions) {
    this.tag = producerTag(options.producerId);
  }

  /**
   * (Re)connects. Every pending batch fails retriable first: delivery re-sends them in
   * order, and each partition resyncs before its first one (what was stored is answered
   * with its original IDs, the rest is sent once).
   */
  async connect(): Promise<void> {
    this.abortChains(new BrokerError("UNAVAILABLE", "appender reconnecting"));
    if (this.nc === undefined || this.nc.isClosed()) {
      this.nc = await openConnection(this.options.endpoint, this.options.timeoutMs);
      this.jsm = undefined;
      this.watch(this.nc);
    }
    // nats.js reconnects by itself; a round trip tells that it is connected now.
    await withTimeout(this.nc.flush(), this.options.timeoutMs, `NATS at ${this.options.endpoint.servers.join(",")} did not answer a ping`);
  }

  send(batch: AppendBatch): Promise<AppendAck> {
    const nc = this.nc;
    if (nc === undefined || this.closed) return Promise.reject(new BrokerError("UNAVAILABLE", "the JetStream appender is not connected"));
    if (!Number.isInteger(batch.partition) || batch.partition < 0 || batch.partition >= this.options.partitions) {
      return Promise.reject(new BrokerError("BAD_PARTITION", `topic '${this.options.topic}' has no partition ${batch.partition}`));
    }
    if (batch.count < 1) return Promise.reject(new BrokerError("MALFORMED_BATCH", `batch ${batch.seq} of partition ${batch.partition} has no events`));
    let offsets: Uint32Array;
    try {
      offsets = recordOffsets(batch, this.options.maxEventBytes);
    } catch (err) {
      return Promise.reject(err);
    }
    let chain = this.chains.get(batch.partition);
    if (chain === undefined) {
      chain = this.chainFor(nc, batch.partition);
      this.chains.set(batch.partition, chain);
    }
    return chain.send(batch, offsets);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abortChains(new BrokerError("UNAVAILABLE", "appender closed"));
    const nc = this.nc;
    this.nc = undefined;
    if (nc && !nc.isClosed()) await nc.close().catch(() => {});
  }

  private chainFor(nc: NatsConnection, partition: number): PartitionChain {
    const stream = streamName(this.options.topic, partition);
    return new PartitionChain({
      nc,
      stream,
      subject: subjectOf(this.options.topic, partition),
      partition,
      tag: this.tag,
      ackTimeoutMs: this.options.ackTimeoutMs,
      lastSequence: async () => lastSequence(await this.control(nc), stream, this.options.topic),
    });
  }

  /** The API client of the resyncs: short timeouts, so they retry often through an election. */
  private control(nc: NatsConnection): Promise<JetStreamManager> {
    // Made without asking the server (checkAPI off): the connection is up, JetStream is asked next.
    this.jsm ??= jetstreamManager(nc, { timeout: Math.min(this.options.timeoutMs, JETSTREAM_DEFAULTS.controlTimeoutMs), checkAPI: false });
    return this.jsm;
  }

  private abortChains(err: BrokerError): void {
    for (const chain of this.chains.values()) chain.abort(err);
    this.chains.clear();
  }

  /**
   * A lost connection drops the messages in its buffers: every chain breaks. Failing
   * their batches at once (retriable) starts delivery's reconnect now, instead of after
   * the ack timeout.
   */
  private watch(nc: NatsConnection): void {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === "disconnect") this.abortChains(new BrokerError("UNAVAILABLE", `disconnected from NATS server ${status.server}`));
      }
    })().catch(() => {});
  }
}


/**
 * Offsets of the records of a batch, each checked to fit one message: a NATS server
 * closes the connection of a client that publishes above its `max_payload`.
 */
function recordOffsets(batch: AppendBatch, maxEventBytes: number): Uint32Array {
  try {
    checkRecords(batch.records, batch.count, maxEventBytes);
  } catch (err) {
    if (err instanceof RangeError) throw new BrokerError("EVENT_TOO_LARGE", `${err.message} (a NATS message, max_payload less headers)`, { cause: err });
    if (err instanceof MalformedRecordsError) throw new BrokerError("MALFORMED_BATCH", err.message, { cause: err });
    throw err;
  }
  const view = new DataView(batch.records.buffer, batch.records.byteOffset, batch.records.byteLength);
  const offsets = new Uint32Array(batch.count + 1);
  let at = 0;
  for (let i = 0; i < batch.count; i++) {
    offsets[i] = at;
    at += recordLength(view, at, batch.records.byteLength);
  }
  offsets[batch.count] = at;
  return offsets;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BrokerError("UNAVAILABLE", `${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The {@link AppenderFactory} the transport thread calls. */
export const createAppender: AppenderFactory = (options) => {
  const o = options as JetStreamAppenderOptions;
  if (!o?.endpoint?.servers?.length || typeof o.topic !== "string") throw new InvalidArgumentError("JetStream appender options need { endpoint, topic, partitions, producerId }");
  return new JetStreamAppender({ ...o, ackTimeoutMs: o.ackTimeoutMs ?? JETSTREAM_DEFAULTS.ackTimeoutMs });
};
