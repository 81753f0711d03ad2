/**
 * Thin promise/async-iterator client of the broker's gRPC service: the tributary driver's
 * catalog, reader and cursors, and its appender on the transport thread, talk through it.
 */
import grpc from "@grpc/grpc-js";
import { BrokerError, InvalidArgumentError } from "../../core/errors.js";
import type { StartPosition } from "../../core/types.js";
import { GRPC_CHANNEL_OPTIONS } from "../../protocol/channel-options.js";
import { toBrokerError } from "../../protocol/error-codes.js";
import type { TributaryConnectOptions } from "./options.js";
import {
  brokerService,
  errorCodeName,
  type AppendRequest,
  type AppendResponse,
  type CreateTopicRequest,
  type ReadRequest,
  type ReadResponse,
  type TopicInfo,
} from "../../protocol/protocol.js";

const BrokerStub = grpc.makeGenericClientConstructor(brokerService, "Broker");
type Stub = InstanceType<typeof BrokerStub> & Record<string, (...args: unknown[]) => unknown>;

/** Parses `tributary://host:port`, `tributarys://host:port` (TLS) or plain `host:port`. */
export function parseBrokerAddress(url: string): { target: string; tls: boolean } {
  const m = /^(?:(tributarys?):\/\/)?(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(url);
  if (!m || Number(m[3]) > 65535) {
    throw new InvalidArgumentError(`broker URL '${url}' is not of the form tributary://host:port (or tributarys:// for TLS)`);
  }
  return { target: `${m[2]}:${m[3]}`, tls: m[1] === "tributarys" };
}

/** Parses a broker URL into a gRPC target (see parseBrokerAddress). */
export function parseBrokerUrl(url: string): string {
  return parseBrokerAddress(url).target;
}

/** How the client proves itself to a broker, and whom it trusts. */
export type BrokerClientOptions = TributaryConnectOptions;

/** One Append stream. Acks arrive in the order the batches were sent. */
export class AppendStream {
  private readonly pending: { resolve: (r: AppendResponse) => void; reject: (e: Error) => void }[] = [];
  private failure: BrokerError | undefined;
  private ended = false;

  constructor(private readonly call: grpc.ClientDuplexStream<AppendRequest, AppendResponse>) {
    call.on("data", (res: AppendResponse) => this.pending.shift()?.resolve(res));
    call.on("error", (err) => this.fail(toBrokerError(err)));
    call.on("end", () => this.fail(new BrokerError("UNAVAILABLE", "append stream ended by the broker")));
  }

  /** Batches sent and not yet acknowledged. */
  get inFlight(): number {
    return this.pending.length;
  }

  /** Set once the stream has failed; every later append rejects with it. */
  get error(): BrokerError | undefined {
    return this.failure;
  }

  /**
   * Sends one batch; resolves with its ack (which may carry a per-batch `error`), rejects
   * when the stream fails before the ack arrives.
   */
  append(req: AppendRequest): Promise<AppendResponse> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.reject(new BrokerError("UNAVAILABLE", "append stream is closed"));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.call.write(req);
    });
  }

  /** Resolves when the underlying socket can take more (write backpressure). */
  writable(): boolean {
    return !this.call.writableNeedDrain;
  }

  /** Half-closes the stream once the pending acks are in; idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.call.end();
  }

  /** Drops the stream at once; pending appends reject. */
  cancel(): void {
    this.ended = true;
    this.call.cancel();
    this.fail(new BrokerError("UNAVAILABLE", "append stream cancelled"));
  }

  private fail(err: BrokerError): void {
    this.failure ??= err;
    for (const p of this.pending.splice(0)) p.reject(this.failure);
  }
}

export interface ReadOptions {
  topic: string;
  partition: number;
  start?: StartPosition;
  follow?: boolean;
  maxEvents?: number;
}

/** A Read stream: async-iterable responses plus cancel(). */
export interface ReadStream extends AsyncIterable<ReadResponse> {
  cancel(): void;
}

export class BrokerClient {
  private readonly stub: Stub;
  private readonly token: string | undefined;

  /** @param url `tributary://host:port`, `tributarys://host:port` (TLS) or `host:port` */
  constructor(readonly url: string, options: BrokerClientOptions = {}) {
    const { target, tls } = parseBrokerAddress(url);
    const pem = (v: string | Uint8Array | undefined): Buffer | null => (v === undefined ? null : Buffer.from(v));
    const credentials =
      tls || options.tls
        ? grpc.credentials.createSsl(pem(options.tls?.ca), pem(options.tls?.key), pem(options.tls?.cert))
        : grpc.credentials.createInsecure();
    this.token = options.token;
    this.stub = new BrokerStub(target, credentials, {
      ...GRPC_CHANNEL_OPTIONS,
      // Pings on open calls notice a half-open connection (a peer gone without a FIN)
      // in seconds instead of TCP's minutes.
      "grpc.keepalive_time_ms": 10_000,
      "grpc.keepalive_timeout_ms": 5_000,
    }) as Stub;
  }

  /** Resolves once connected; rejects with UNAVAILABLE after `timeoutMs`. */
  waitForReady(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.stub.waitForReady(Date.now() + timeoutMs, (err?: Error) =>
        err ? reject(new BrokerError("UNAVAILABLE", `broker at ${this.url} not reachable within ${timeoutMs} ms`)) : resolve(),
      ),
    );
  }

  createTopic(req: CreateTopicRequest): Promise<TopicInfo> {
    return this.unary("createTopic", req);
  }

  describeTopic(name: string): Promise<TopicInfo> {
    return this.unary("describeTopic", { name });
  }

  async listTopics(): Promise<TopicInfo[]> {
    return (await this.unary<{ topics: TopicInfo[] }>("listTopics", {})).topics;
  }

  async deleteTopic(name: string): Promise<boolean> {
    return (await this.unary<{ deleted: boolean }>("deleteTopic", { name })).deleted;
  }

  /**
   * Stores a consumer's cursor. `generation` (from claimCursor) fences: the broker
   * refuses the commit with FENCED once a newer instance claimed the cursor.
   */
  async commitCursor(topic: string, consumer: string, partition: number, nextOffset: number, generation?: number): Promise<void> {
    await this.unary("commitCursor", { topic, consumer, partition, nextOffset, generation: generation ?? 0 });
  }

  async fetchCursor(topic: string, consumer: string, partition: number): Promise<number | undefined> {
    return (await this.cursor(topic, consumer, partition, false)).nextOffset;
  }

  /**
   * Fetches a cursor and claims it for this instance: the returned generation goes with
   * its commits, and every older instance's commits are refused from now on.
   */
  claimCursor(topic: string, consumer: string, partition: number): Promise<{ nextOffset: number | undefined; generation: number }> {
    return this.cursor(topic, consumer, partition, true);
  }

  /** Opens a bidirectional Append stream. */
  openAppendStream(): AppendStream {
    return new AppendStream(this.stub.append(this.metadata()) as grpc.ClientDuplexStream<AppendRequest, AppendResponse>);
  }

  /** Reads one partition from a start position; in follow mode the stream stays open. */
  read(options: ReadOptions): ReadStream {
    const req: Partial<ReadRequest> = { topic: options.topic, partition: options.partition, follow: options.follow ?? false, maxEvents: options.maxEvents ?? 0 };
    const start = options.start ?? "earliest";
    if (start === "earliest") req.earliest = true;
    else if (start === "latest") req.latest = true;
    else if ("offset" in start) req.offset = start.offset;
    else req.timestampMs = start.time;
    const call = this.stub.read(req, this.metadata()) as grpc.ClientReadableStream<ReadResponse>;
    // Errors reach the reader through iteration; once it stopped iterating (or before it
    // starts), the CANCELLED status of a cancel must not be an unhandled 'error' event.
    call.on("error", () => {});
    let cancelled = false;
    const cancel = (): void => {
      if (cancelled) return;
      cancelled = true;
      call.cancel();
    };
    return {
      cancel,
      async *[Symbol.asyncIterator]() {
        try {
          for await (const res of call) yield res as ReadResponse;
        } catch (err) {
          if (cancelled && (err as grpc.ServiceError).code === grpc.status.CANCELLED) return;
          throw toBrokerError(err);
        } finally {
          cancel();
        }
      },
    };
  }

  close(): void {
    this.stub.close();
  }

  private async cursor(topic: string, consumer: string, partition: number, claim: boolean) {
    const r = await this.unary<{ found: boolean; nextOffset: number; generation: number }>("fetchCursor", { topic, consumer, partition, claim });
    return { nextOffset: r.found ? Number(r.nextOffset) : undefined, generation: Number(r.generation ?? 0) };
  }

  /** Call metadata: the bearer token, when there is one. */
  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.token) metadata.set("authorization", `Bearer ${this.token}`);
    return metadata;
  }

  private unary<Res>(method: string, req: unknown): Promise<Res> {
    return new Promise((resolve, reject) =>
      this.stub[method]!(req, this.metadata(), (err: grpc.ServiceError | null, res: Res) => (err ? reject(toBrokerError(err)) : resolve(res))),
    );
  }
}

/** Maps a per-batch `AppendResponse.error` to a BrokerError. */
export function appendError(res: AppendResponse): BrokerError | undefined {
  if (!res.error) return undefined;
  const name = errorCodeName(res.error.code);
  return new BrokerError(name === "UNSPECIFIED" ? "UNKNOWN" : name, res.error.message);
}
