/** NATS JetStream behind the driver contract: catalog, reads and cursors on one connection. */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../core/logger.js";
import type { EventID, TopicDescription } from "../../core/types.js";
import type { AppenderSpec, DriverCapabilities, DriverConnectOptions, LogDriver, PartitionReader, ReadRequest, TopicSettings } from "../contract.js";
import type { JetStreamAppenderOptions } from "./appender.js";
import { Bucket } from "./buckets.js";
import { Catalog } from "./catalog.js";
import { Cursors } from "./cursors.js";
import { JETSTREAM_DEFAULTS } from "./defaults.js";
import { natsError, PubAckError } from "./errors.js";
import { checkNatsOptions, openConnection, parseNatsUrl, type NatsEndpoint } from "./options.js";
import { readPartition } from "./reader.js";

const D = JETSTREAM_DEFAULTS;
const APPENDER_MODULE = new URL("./appender.js", import.meta.url).href;

/** Options of `connect("nats://…", options)`. */
export interface JetStreamDriverOptions extends DriverConnectOptions {
  /** Credentials and TLS of the NATS connection. */
  nats?: unknown;
}

/**
 * Capabilities from the server's `max_payload` (an event is one message, its record the
 * payload, with room kept for the headers). IDs are contiguous (stream sequence − 1, one
 * stream per partition, a refused or duplicate message takes no sequence); a re-sent
 * batch is recognised by message ID within the duplicate window.
 */
export function jetstreamCapabilities(maxPayload: number): DriverCapabilities {
  return Object.freeze({
    maxEventBytes: maxPayload - D.headerBudgetBytes,
    maxBatchBytes: D.maxBatchBytes,
    maxBatchEvents: D.maxBatchEvents,
    contiguousIds: true,
    dedupe: Object.freeze({ kind: "message-id" as const, windowMs: D.duplicateWindowMs }),
  });
}

export class JetStreamDriver implements LogDriver {
  readonly capabilities: DriverCapabilities;
  private readonly catalog: Catalog;
  private readonly cursors: Cursors;
  /** The readers' own API client: shorter timeouts, so a reader retries often through an election. */
  private readerJsm: Promise<JetStreamManager> | undefined;
  private readerJs: JetStreamClient | undefined;

  private constructor(
    readonly url: string,
    private readonly endpoint: NatsEndpoint,
    private readonly nc: NatsConnection,
    jsm: JetStreamManager,
    private readonly timeoutMs: number,
    private readonly logger: Logger | undefined,
  ) {
    this.capabilities = jetstreamCapabilities(nc.info?.max_payload ?? 1024 * 1024);
    const cursorBucket = new Bucket(nc, jsm, D.cursorBucket);
    this.catalog = new Catalog(jsm, new Bucket(nc, jsm, D.catalogBucket), cursorBucket, D.duplicateWindowMs);
    this.cursors = new Cursors(this.catalog, cursorBucket);
  }

  /** Connects to `nats://host:port[,host:port…]` and checks that JetStream answers. */
  static async connect(url: string, options: JetStreamDriverOptions = {}): Promise<JetStreamDriver> {
    const servers = parseNatsUrl(url);
    const endpoint: NatsEndpoint = { servers, options: checkNatsOptions(options.nats) };
    const timeoutMs = options.timeoutMs ?? D.timeoutMs;
    const nc = await openConnection(endpoint, timeoutMs);
    try {
      await jetStreamAnswers(nc, timeoutMs);
      const jsm = await jetstreamManager(nc, { timeout: timeoutMs, checkAPI: false });
      return new JetStreamDriver(`nats://${servers.join(",")}`, endpoint, nc, jsm, timeoutMs, options.logger);
    } catch (err) {
      await nc.close().catch(() => {});
      throw natsError(err, `JetStream at ${url} does not answer (is the server started with -js?)`);
    }
  }

  createTopic(name: string, settings: TopicSettings): Promise<TopicDescription> {
    return this.catalog.create(name, settings);
  }

  describeTopic(name: string): Promise<TopicDescription> {
    return this.catalog.describe(name);
  }

  listTopics(): Promise<TopicDescription[]> {
    return this.catalog.list();
  }

  deleteTopic(name: string): Promise<boolean> {
    return this.catalog.delete(name);
  }

  read(request: ReadRequest): PartitionReader {
    const timeout = Math.min(this.timeoutMs, D.controlTimeoutMs);
    // Made without asking the server (checkAPI off): it is the same connection.
    this.readerJsm ??= jetstreamManager(this.nc, { timeout, checkAPI: false });
    this.readerJs ??= jetstream(this.nc, { timeout });
    return readPartition({ logger: this.logger, js: this.readerJs, jsm: this.readerJsm, catalog: this.catalog, timeoutMs: this.timeoutMs }, request);
  }

  commitCursor(topic: string, consumer: string, partition: number, nextOffset: EventID, generation?: number): Promise<void> {
    return this.cursors.commit(topic, consumer, partition, nextOffset, generation);
  }

  claimCursor(topic: string, consumer: string, partition: number): Promise<{ nextOffset: EventID | undefined; generation: number }> {
    return this.cursors.claim(topic, consumer, partition);
  }

  fetchCursor(topic: string, consumer: string, partition: number): Promise<EventID | undefined> {
    return this.cursors.fetch(topic, consumer, partition);
  }

  appender(topic: TopicDescription, producerId: string): AppenderSpec {
    const options: JetStreamAppenderOptions = {
      endpoint: this.endpoint,
      topic: topic.name,
      partitions: topic.partitions,
      producerId,
      maxEventBytes: this.capabilities.maxEventBytes,
      ackTimeoutMs: D.ackTimeoutMs,
      timeoutMs: this.timeoutMs,
    };
    return { module: APPENDER_MODULE, export: "createAppender", options };
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close().catch(() => {});
  }
}

/**
 * Waits until JetStream answers `$JS.API.INFO`, asking again every second up to
 * `timeoutMs`: a cluster that is electing its meta leader does not answer at first.
 */
async function jetStreamAnswers(nc: NatsConnection, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    try {
      const msg = await nc.request("$JS.API.INFO", undefined, { timeout: Math.max(100, Math.min(1000, left)) });
      const res = JSON.parse(new TextDecoder().decode(msg.data)) as { error?: { err_code: number; code: number; description: string } };
      if (res.error) throw new PubAckError(res.error.err_code, res.error.code, res.error.description);
      return;
    } catch (err) {
      const e = natsError(err, "asking JetStream for the account");
      if (!e.retriable || Date.now() + 200 >= deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
