/**
 * The Producer: main-thread entry of the pipeline.
 *
 *   push() ─► ChunkBuilder ─► ThreadPool (validate → select → serialize, per chunk)
 *          ─► Sequencer (Strict: push order) ─► PartitionBatcher (fixed n | adaptive)
 *          ─► TransportHost (transport thread, gRPC) ─► acks ─► futures
 *
 * Work on the main thread per event is a handful of array pushes; everything that
 * crosses a thread crosses per chunk or per batch.
 */
import { randomUUID } from "node:crypto";
import { BrokerError, ClosedError, DeliveryTimeoutError, ValidationError, type BrokerErrorCode } from "../client/errors.js";
import { EventFuture } from "../client/future.js";
import type { ThreadPool } from "../client/thread-pool.js";
import type { EventData, EventID, Metadata, PushOptions } from "../client/types.js";
import type { ChunkOutput } from "../pipeline/chunk.js";
import type { PipelineSpecs } from "../pipeline/contracts.js";
import { TransportHost } from "../transport/transport-host.js";
import type { AcksMessage, TransportStats } from "../transport/messages.js";
import { ChunkBuilder } from "./chunk-builder.js";
import { dataLength, metadataProblem, normalizeData, pushOptionsProblem } from "./event-input.js";
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from "./options.js";
import { PartitionBatcher, type ReadyBatch } from "./partition-batcher.js";
import { Sequencer } from "./sequencer.js";

/** What a producer needs to know of its topic. */
export interface ProducerTarget {
  url: string;
  topic: string;
  partitions: number;
  specs: PipelineSpecs;
}

/** Counters of a producer. */
export interface ProducerStats {
  pushed: number;
  acknowledged: number;
  failed: number;
  /** Pushed, neither acknowledged nor failed. */
  pending: number;
  chunks: number;
  /** Chunks that finished before an earlier chunk and waited in the sequencer (Strict). */
  chunksHeldBack: number;
  batches: number;
  /** Mean events per batch sent. */
  meanBatchEvents: number;
  transport: TransportStats | undefined;
}

/** One event of `pushMany`. */
export interface BulkEvent {
  metadata: Metadata;
  data?: EventData;
  partition?: number;
  key?: string;
}

/** One ack of `pushMany`, in input order. */
export type BulkAck = { index: number; partition: number; id: EventID; error?: undefined } | { index: number; error: Error };

const noop = (): void => {};

type ErrorListener = (error: Error, future: EventFuture) => void;

interface FinishedChunk {
  chunk: ChunkBuilder;
  output: ChunkOutput | undefined;
}

/** Largest chunk arena before a chunk is dispatched early, whatever its event count. */
const MAX_CHUNK_DATA_BYTES = 4 * 1024 * 1024;
const empty: EventFuture[] = [];

export class Producer implements AsyncDisposable {
  /** Producer ID on the wire: the name plus a random suffix, unique per instance. */
  readonly producerId: string;
  private readonly options: ResolvedProducerOptions;
  private readonly pool: ThreadPool;
  private readonly batchers: PartitionBatcher[];
  private readonly sequencer: Sequencer<FinishedChunk>;
  private readonly inFlight = new Map<number, EventFuture[]>(); // key: partition * 2^32 + seq
  private readonly errorListeners = new Set<ErrorListener>();
  private transport: TransportHost | undefined;
  private broken: Error | undefined;
  private readonly started: Promise<void>;

  private chunk = new ChunkBuilder();
  private dispatchScheduled = false;
  private chunkSeq = 0;
  private pushed = 0;
  private acknowledged = 0;
  private failed = 0;
  private batches = 0;
  private batchedEvents = 0;
  private unsettled = 0;

  // Flush bookkeeping: events are counted per flush epoch, so flush() waits only for
  // the events pushed before it, even while pushing goes on.
  private epoch = 0;
  private epochUnsettled: number[] = [0];
  private lowestOpenEpoch = 0;
  private readonly flushWaiters: { epoch: number; resolve: () => void }[] = [];
  private readonly capacityWaiters: (() => void)[] = [];
  private wakeScheduled = false;
  private readonly expiryTimer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;

  /** @internal Use `topic.producer(options)`. */
  constructor(private readonly target: ProducerTarget, pool: ThreadPool, options: ProducerOptions = {}) {
    this.options = resolveProducerOptions(options, target.partitions);
    this.pool = pool;
    if (options.onError) this.errorListeners.add(options.onError);
    this.producerId = `${this.options.name}-${randomUUID()}`;
    const policy = {
      size: this.options.batchSize,
      maxInFlight: this.options.maxNumBatches,
      maxBatchEvents: 65_536,
      maxBatchBytes: 8 * 1024 * 1024,
    };
    this.batchers = Array.from({ length: target.partitions }, (_, p) => new PartitionBatcher(p, policy));
    this.sequencer = new Sequencer(this.options.strict, (done) => this.release(done));
    // Events that cannot even leave the producer (the broker takes nothing) fail at their
    // delivery deadline too, counted from when they were queued, not from when they are sent.
    this.expiryTimer = setInterval(() => this.expireQueued(), Math.min(1000, Math.max(20, this.options.deliveryTimeoutMs / 4)));
    this.expiryTimer.unref();
    this.started = TransportHost.start(
      {
        driver: "tributary",
        url: target.url,
        topic: target.topic,
        producerId: this.producerId,
        deliveryTimeoutMs: this.options.deliveryTimeoutMs,
        retryBackoffMs: 50,
      },
      (msg) => this.onAcks(msg),
    ).then(
      (host) => {
        this.transport = host;
        this.pump();
      },
      (err: Error) => {
        this.broken = err;
        this.pump();
      },
    );
  }

  /** Name of the topic. */
  get topic(): string {
    return this.target.topic;
  }

  /**
   * Pushes one event. Returns at once with a future of its EventID.
   *
   * Metadata and data are read after `push` returns (when the chunk is handed to the
   * pipeline): do not change them until the future has completed.
   * @throws ClosedError after `close()`
   */
  push(metadata: Metadata, data?: EventData, options?: PushOptions): EventFuture {
    if (this.closing) throw new ClosedError(`producer '${this.options.name}' is closed; push() after close()`);
    const future = new EventFuture(this.pushed++);
    future.epoch = this.epoch;
    this.epochUnsettled[this.epoch]!++;
    this.unsettled++;
    const parts = normalizeData(data);
    const problem = typeof parts === "string" ? parts : metadataProblem(metadata) ?? pushOptionsProblem(options, this.target.partitions);
    if (problem !== undefined) {
      this.fail(future, new ValidationError(future.index, "input", problem));
      return future;
    }
    const bytes = dataLength(parts as Exclude<typeof parts, string>);
    this.chunk.add(future, metadata, parts as Exclude<typeof parts, string>, bytes, options?.partition ?? -1, options?.key);
    if (this.chunk.size >= this.options.chunkSize || this.chunk.dataBytes >= MAX_CHUNK_DATA_BYTES) this.dispatch();
    else if (!this.dispatchScheduled) {
      // A partial chunk leaves once the caller's synchronous code yields.
      this.dispatchScheduled = true;
      setImmediate(() => {
        this.dispatchScheduled = false;
        this.dispatch();
      });
    }
    return future;
  }

  /**
   * Bulk publishing: pushes every event of `events` (sync or async iterable) and yields
   * one ack per event, in input order: `{ index, partition, id }` or `{ index, error }`,
   * `index` counting the events of this call from 0.
   * Pulling from the source waits while the producer is at capacity, so memory stays
   * bounded however long the source is.
   */
  async *pushMany(events: Iterable<BulkEvent> | AsyncIterable<BulkEvent>): AsyncGenerator<BulkAck, void, undefined> {
    const window: EventFuture[] = [];
    const syncSource = Symbol.iterator in events ? (events as Iterable<BulkEvent>)[Symbol.iterator]() : undefined;
    const asyncSource = syncSource ? undefined : (events as AsyncIterable<BulkEvent>)[Symbol.asyncIterator]();
    let sourceDone = false;
    let index = 0;
    while (!sourceDone || window.length > 0) {
      while (!sourceDone && this.hasCapacity) {
        const next = syncSource ? syncSource.next() : await asyncSource!.next();
        if (next.done) {
          sourceDone = true;
          break;
        }
        const e = next.value;
        window.push(this.push(e.metadata, e.data, e.partition === undefined && e.key === undefined ? undefined : { partition: e.partition, key: e.key }));
      }
      const head = window.shift();
      if (!head) {
        // At capacity with nothing of ours in flight (another pusher filled it): wait.
        if (!sourceDone) await this.ready();
        continue;
      }
      if (!head.completed) {
        // Partial batches must leave too, or the head of a fixed-size batch would wait forever.
        void this.flush();
        await head.then(noop, noop);
      }
      const error = head.error;
      yield error ? { index: index++, error } : { index: index++, partition: head.partition, id: (await head) as EventID };
    }
  }

  /** Events pushed and not yet settled. */
  get pending(): number {
    return this.unsettled;
  }

  /** False while `pending` is at or above `maxPendingEvents`: then `await ready()`. */
  get hasCapacity(): boolean {
    return this.unsettled < this.options.maxPendingEvents;
  }

  /**
   * Resolves when the producer's transport thread is up and the producer has capacity
   * (pending events below `maxPendingEvents`, or down to half of it after it was full). The backpressure pattern of a fire-and-forget loop:
   * `if (!producer.hasCapacity) await producer.ready();`
   */
  ready(): Promise<void> {
    // The first call also waits for the transport thread to be up and connecting.
    if (!this.transport && !this.broken) return this.started.then(() => this.ready());
    if (this.hasCapacity || this.broken) return Promise.resolve();
    const wait = new Promise<void>((resolve) => this.capacityWaiters.push(resolve));
    this.dispatch();
    this.pump();
    return wait;
  }

  /** Resolves once every event pushed before the call is acknowledged or failed. */
  flush(): Promise<void> {
    if (this.unsettled === 0) {
      this.restartEpochs();
      return Promise.resolve();
    }
    const epoch = this.epoch++;
    this.epochUnsettled.push(0);
    const done = new Promise<void>((resolve) => this.flushWaiters.push({ epoch, resolve }));
    this.dispatch();
    this.checkFlushes();
    this.pump();
    return done;
  }

  /** @internal Called once the producer has closed (the driver forgets it). */
  onClosed: (() => void) | undefined;

  /** Flushes, then stops the transport thread. `push()` throws from now on. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.started;
      await this.flush();
      await this.transport?.close();
      clearInterval(this.expiryTimer);
      this.onClosed?.();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Listens for failed events (validation, broker refusal, delivery timeout). */
  on(event: "error", listener: ErrorListener): this {
    if (event === "error") this.errorListeners.add(listener);
    return this;
  }

  off(event: "error", listener: ErrorListener): this {
    if (event === "error") this.errorListeners.delete(listener);
    return this;
  }

  async stats(): Promise<ProducerStats> {
    const transport = this.transport && !this.closing ? await this.transport.stats() : undefined;
    return {
      pushed: this.pushed,
      acknowledged: this.acknowledged,
      failed: this.failed,
      pending: this.unsettled,
      chunks: this.chunkSeq,
      chunksHeldBack: this.sequencer.heldBack,
      batches: this.batches,
      meanBatchEvents: this.batches ? this.batchedEvents / this.batches : 0,
      transport,
    };
  }

  private dispatch(): void {
    if (this.chunk.size === 0) return;
    const chunk = this.chunk;
    this.chunk = new ChunkBuilder();
    this.run(this.chunkSeq++, chunk);
  }

  private run(seq: number, chunk: ChunkBuilder): void {
    const { input, transfer } = chunk.build(this.target.specs, this.target.partitions);
    this.pool.run(input, transfer).then(
      (output) => this.sequencer.complete(seq, { chunk, output }),
      (err: Error) => this.chunkFailed(seq, chunk, err),
    );
  }

  /** A whole chunk failed. Metadata that cannot cross to a worker fails only its own event. */
  private chunkFailed(seq: number, chunk: ChunkBuilder, err: Error): void {
    if (err?.name === "DataCloneError") {
      const bad = new Set<number>();
      chunk.metadata.forEach((m, i) => {
        try {
          structuredClone(m);
        } catch (e) {
          bad.add(i);
          this.fail(chunk.futures[i]!, new ValidationError(chunk.futures[i]!.index, "input", `metadata cannot be sent to a worker: ${(e as Error).message}`));
        }
      });
      if (bad.size > 0) {
        const rest = chunk.without(bad);
        if (rest.size > 0) this.run(seq, rest);
        else this.sequencer.complete(seq, { chunk: rest, output: undefined });
        return;
      }
    }
    for (const f of chunk.futures) this.fail(f, err instanceof Error ? err : new Error(String(err)));
    this.sequencer.complete(seq, { chunk: new ChunkBuilder(), output: undefined });
  }

  /** A chunk leaves the sequencer: failures settle, survivors queue per partition. */
  private release({ chunk, output }: FinishedChunk): void {
    if (!output) return this.pump();
    const futures = chunk.futures;
    for (const failure of output.failures) {
      const f = futures[failure.index]!;
      this.fail(f, new ValidationError(f.index, failure.stage, failure.reason));
    }
    const byPartition: EventFuture[][] = [];
    const eventPartition = output.eventPartition;
    for (let i = 0; i < futures.length; i++) {
      const p = eventPartition[i]!;
      if (p >= 0) (byPartition[p] ??= []).push(futures[i]!);
    }
    for (const part of output.parts) this.batchers[part.partition]!.enqueue(part.records, byPartition[part.partition] ?? empty);
    this.pump();
  }

  /** Sends every batch that may leave now. */
  private pump(): void {
    if (this.broken) return this.failQueued(this.broken);
    if (!this.transport) return;
    const partial = this.flushWaiters.length > 0 || this.capacityWaiters.length > 0;
    for (const batcher of this.batchers) {
      if (batcher.queued === 0) continue;
      for (const batch of batcher.take(partial)) this.send(batch);
    }
  }

  private send(batch: ReadyBatch): void {
    this.inFlight.set(batch.partition * 2 ** 32 + batch.seq, batch.futures);
    this.batches++;
    this.batchedEvents += batch.futures.length;
    const transfer: ArrayBuffer[] = [];
    // A blob that owns its whole buffer moves; a slice is copied so that only its own
    // bytes cross (posting a view would clone the whole underlying buffer).
    const parts = batch.parts.map((p) => {
      const owned = p.byteOffset === 0 && p.byteLength === p.buffer.byteLength ? p : p.slice();
      transfer.push(owned.buffer as ArrayBuffer);
      return owned;
    });
    const deadline = batch.since + this.options.deliveryTimeoutMs;
    this.transport!.send({ t: "batch", partition: batch.partition, seq: batch.seq, count: batch.futures.length, deadline, parts }, transfer);
  }

  private onAcks(msg: AcksMessage): void {
    const acks = msg.acks;
    for (let i = 0; i < acks.length; i += 4) {
      const partition = acks[i]!;
      const futures = this.takeInFlight(partition, acks[i + 1]!);
      const first = acks[i + 2]!;
      const epochs = this.epochUnsettled;
      for (let j = 0; j < futures.length; j++) {
        const f = futures[j]!;
        f.resolve(first + j, partition);
        epochs[f.epoch]!--;
      }
      this.acknowledged += futures.length;
      this.unsettled -= futures.length;
    }
    this.wakeWaiters();
    for (const failure of msg.failures) {
      const futures = this.takeInFlight(failure.partition, failure.seq);
      const shared =
        failure.code === "timeout"
          ? undefined
          : failure.code === "CLOSED"
            ? new ClosedError(failure.message)
            : new BrokerError(failure.code as BrokerErrorCode, failure.message);
      for (const f of futures) {
        f.partition = failure.partition;
        this.fail(f, shared ?? new DeliveryTimeoutError(f.index, this.options.deliveryTimeoutMs, failure.message));
      }
    }
    this.pump();
  }

  private takeInFlight(partition: number, seq: number): EventFuture[] {
    const key = partition * 2 ** 32 + seq;
    const futures = this.inFlight.get(key) ?? empty;
    this.inFlight.delete(key);
    this.batchers[partition]!.inFlight--;
    return futures;
  }

  private expireQueued(): void {
    const cutoff = Date.now() - this.options.deliveryTimeoutMs;
    for (const batcher of this.batchers) {
      if (batcher.queued === 0) continue;
      for (const f of batcher.expire(cutoff)) {
        f.partition = batcher.partition;
        this.fail(f, new DeliveryTimeoutError(f.index, this.options.deliveryTimeoutMs, "the broker took no batch of this partition in time"));
      }
    }
  }

  /** The transport thread could not start: nothing queued can ever be sent. */
  private failQueued(err: Error): void {
    for (const batcher of this.batchers) {
      while (batcher.queued > 0) {
        for (const batch of batcher.take(true)) {
          batcher.inFlight--;
          for (const f of batch.futures) this.fail(f, err);
        }
      }
    }
  }

  private fail(future: EventFuture, error: Error): void {
    future.reject(error);
    this.failed++;
    for (const listener of this.errorListeners) {
      try {
        listener(error, future);
      } catch {
        // A throwing listener must not break delivery of the other events.
      }
    }
    this.settled(future);
  }

  private settled(future: EventFuture): void {
    this.unsettled--;
    this.epochUnsettled[future.epoch]!--;
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    if (this.flushWaiters.length > 0) this.checkFlushes();
    // Waiters wake at half the limit, not at the first free slot: the caller then pushes
    // a long run of events that fills whole chunks instead of one event per wake-up.
    if (this.capacityWaiters.length > 0 && this.unsettled <= this.options.maxPendingEvents / 2 && !this.wakeScheduled) {
      // Resume the waiting pusher from the event loop's check phase, not from inside the
      // ack message handler: Node drains up to 1,000 port messages per turn, and a pusher
      // resumed in there would keep the loop from ever reaching its timers.
      this.wakeScheduled = true;
      setImmediate(() => {
        this.wakeScheduled = false;
        for (const resolve of this.capacityWaiters.splice(0)) resolve();
      });
    }
  }

  private checkFlushes(): void {
    while (this.lowestOpenEpoch < this.epoch && this.epochUnsettled[this.lowestOpenEpoch] === 0) this.lowestOpenEpoch++;
    while (this.flushWaiters.length > 0 && this.flushWaiters[0]!.epoch < this.lowestOpenEpoch) this.flushWaiters.shift()!.resolve();
    if (this.unsettled === 0) this.restartEpochs();
  }

  /** With nothing pending no future holds an epoch: start counting afresh, so a long-lived producer that flushes often does not grow the table. */
  private restartEpochs(): void {
    if (this.flushWaiters.length > 0 || this.epoch === 0) return;
    this.epoch = 0;
    this.lowestOpenEpoch = 0;
    this.epochUnsettled = [0];
  }
}
