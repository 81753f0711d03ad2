/**
 * The Producer: main-thread entry of the pipeline, a facade over small parts.
 *
 *   push() ─► ChunkBuilder ─► ChunkRunner (ThreadPool: validate → select → serialize)
 *          ─► Sequencer (Strict: push order) ─► PartitionBatcher (fixed n | adaptive)
 *          ─► TransportHost (transport thread, the driver's appender) ─► acks
 *          ─► InFlightTable ─► Settlement (futures, FlushTracker, CapacityGate)
 *
 * Work on the main thread per event is a handful of array pushes; everything that
 * crosses a thread crosses per chunk or per batch.
 */
import { randomUUID } from "node:crypto";
import { BrokerError, ClosedError, DeliveryTimeoutError, ValidationError, type BrokerErrorCode } from "../core/errors.js";
import { EventFuture } from "../core/future.js";
import type { EventData, Metadata, PipelineSpecs, PushOptions, TopicDescription } from "../core/types.js";
import type { AppenderSpec, DriverCapabilities } from "../drivers/contract.js";
import type { ThreadPool } from "../pipeline/thread-pool.js";
import { ACK_FIELDS, type AcksMessage, type TransportStats } from "../transport/messages.js";
import { TransportHost } from "../transport/transport-host.js";
import { claimWal, type WalClaim } from "../transport/wal/wal-claim.js";
import { pushMany, type BulkAck, type BulkEvent } from "./bulk.js";
import { CapacityGate } from "./capacity-gate.js";
import { ChunkBuilder } from "./chunk-builder.js";
import { ChunkRunner, type FinishedChunk } from "./chunk-runner.js";
import { dataLength, metadataProblem, normalizeData, pushOptionsProblem } from "./event-input.js";
import { FlushTracker } from "./flush-tracker.js";
import { InFlightTable, type InFlightBatch } from "./in-flight.js";
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from "./options.js";
import { PartitionBatcher, type ReadyBatch } from "./partition-batcher.js";
import { Sequencer } from "./sequencer.js";
import { Settlement, type ErrorListener } from "./settlement.js";
import { Lifecycle } from "./state.js";

export type { BulkAck, BulkEvent } from "./bulk.js";

const NO_FUTURES: readonly EventFuture[] = [];

/** What a producer needs to know of its topic and its log. */
export interface ProducerTarget {
  topic: TopicDescription;
  /** The pipeline in its runnable form (resolved on this side). */
  specs: PipelineSpecs;
  capabilities: DriverCapabilities;
  /** How the transport thread appends, given the producer ID. */
  appender(producerId: string): AppenderSpec;
}

/** What `flush` waits for. */
export interface FlushOptions {
  /** Wait only until every earlier event is durable in the WAL (or settled), not acknowledged. */
  durable?: boolean;
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
  /**
   * With a WAL: its bytes on disk, and the batches and events of an earlier run it
   * re-sent; `replayFailedBatches` the log refused for good (their events are lost, and
   * reported here because no future of this run stands for them).
   */
  wal: { bytes: number; replayedBatches: number; replayedEvents: number; replayFailedBatches: number } | undefined;
}

export class Producer implements AsyncDisposable {
  /** Producer ID on the wire: the name plus a random suffix, unique per instance. */
  readonly producerId: string;
  readonly #options: ResolvedProducerOptions;
  readonly #target: ProducerTarget;
  readonly #lifecycle = new Lifecycle();
  readonly #flushes = new FlushTracker();
  /** With a WAL: flushes that wait for durability only. */
  readonly #durables: FlushTracker | undefined;
  readonly #wal: WalClaim | undefined;
  #walBytes = 0;
  #walFull = false;
  #walWaiters: (() => void)[] = [];
  #replayed = { batches: 0, events: 0 };
  /** Batches of an earlier run's WAL not yet answered; flush() waits for them too. */
  #replayLeft = 0;
  #replayFailed = 0;
  #replayWaiters: (() => void)[] = [];
  #lingerTimer: NodeJS.Timeout | undefined;
  #lingerAt = Infinity;
  readonly #capacity: CapacityGate;
  readonly #settlement: Settlement;
  readonly #sequencer: Sequencer<FinishedChunk>;
  readonly #runner: ChunkRunner;
  readonly #batchers: PartitionBatcher[];
  readonly #inFlight = new InFlightTable();
  readonly #started: Promise<void>;
  readonly #expiryTimer: NodeJS.Timeout;
  #transport: TransportHost | undefined;
  #broken: Error | undefined;
  #closing: Promise<void> | undefined;

  #chunk = new ChunkBuilder();
  #dispatchScheduled = false;
  #pushed = 0;
  #batches = 0;
  #batchedEvents = 0;

  /** @internal Use `topic.producer(options)`. */
  constructor(target: ProducerTarget, pool: ThreadPool, options: ProducerOptions = {}) {
    const { partitions } = target.topic;
    this.#options = resolveProducerOptions(options, partitions, target.capabilities);
    this.#target = target;
    this.#capacity = new CapacityGate(this.#options.maxPendingEvents);
    const wal = this.#options.wal;
    // Claimed here, synchronously: a second producer of the same WAL fails at creation.
    this.#wal = wal ? claimWal(wal.dir, target.topic.name, this.#options.name) : undefined;
    this.#durables = wal ? new FlushTracker() : undefined;
    this.#settlement = new Settlement(this.#flushes, this.#capacity, this.#durables);
    if (options.onError) this.#settlement.listeners.add(options.onError);
    // With a WAL the ID is the WAL's, so that a restarted producer re-sends under it.
    this.producerId = this.#wal?.meta.producerId ?? `${this.#options.name}-${randomUUID()}`;
    const policy = {
      size: this.#options.batchSize,
      maxInFlight: this.#options.maxNumBatches,
      maxBatchEvents: this.#options.maxBatchEvents,
      maxBatchBytes: this.#options.maxBatchBytes,
      lingerMs: this.#options.lingerMs,
    };
    this.#batchers = Array.from({ length: partitions }, (_, p) => new PartitionBatcher(p, policy));
    this.#sequencer = new Sequencer(this.#options.strict, (done) => this.#release(done));
    this.#runner = new ChunkRunner(
      pool,
      { specs: target.specs, numPartitions: partitions, maxEventBytes: target.capabilities.maxEventBytes },
      this.#sequencer,
      this.#settlement,
    );
    // Events that cannot even leave the producer (the log takes nothing) fail at their
    // delivery deadline too, counted from when they were queued, not from when they are sent.
    this.#expiryTimer = setInterval(() => this.#expireQueued(), Math.min(1000, Math.max(20, this.#options.deliveryTimeoutMs / 4)));
    this.#expiryTimer.unref();
    this.#started = TransportHost.start(
      {
        appender: target.appender(this.producerId),
        deliveryTimeoutMs: this.#options.deliveryTimeoutMs,
        retryBackoffMs: this.#options.retryBackoffMs,
        wal: wal && this.#wal ? { dir: this.#wal.dir, meta: this.#wal.meta, fsync: wal.fsync, intervalMs: wal.intervalMs, segmentBytes: wal.segmentBytes } : undefined,
      },
      (msg) => this.#onAcks(msg),
    ).then(
      ({ host, opened }) => {
        this.#transport = host;
        // New batches follow the ones an earlier run left in the WAL.
        for (const [p, seq] of opened.nextSeqs) this.#batchers[p]?.startAt(seq);
        this.#replayed = opened.replayed;
        this.#replayLeft = opened.replayed.batches;
        this.#walBytes = opened.walBytes;
        this.#lifecycle.tryTo("open");
        this.#pump();
      },
      (err: unknown) => {
        this.#broken = err instanceof Error ? err : new Error(String(err));
        this.#wal?.release();
        this.#lifecycle.tryTo("broken");
        this.#capacity.openAll();
        this.#wakeWalWaiters();
        this.#pump();
      },
    );
  }

  /** The topic this producer writes to. */
  get topic(): string {
    return this.#target.topic.name;
  }

  /**
   * Queues one event and returns at once with its future, which settles with the event's
   * EventID (or fails with ValidationError, BrokerError or DeliveryTimeoutError).
   *
   * Metadata and data are read after `push` returns (when the chunk is handed to the
   * pipeline): do not change them until the future has completed.
   * @throws ClosedError after `close()`
   */
  push(metadata: Metadata, data?: EventData, options?: PushOptions): EventFuture {
    if (this.#lifecycle.closing) throw new ClosedError(`producer '${this.#options.name}' is closed; push() after close()`);
    const future = new EventFuture(this.#pushed++);
    this.#flushes.pushed();
    this.#durables?.pushed();
    this.#capacity.add();
    const parts = normalizeData(data);
    const problem = typeof parts === "string" ? parts : (metadataProblem(metadata) ?? pushOptionsProblem(options, this.#batchers.length));
    if (problem !== undefined) {
      this.#settlement.fail(future, new ValidationError(future.index, "input", problem));
      return future;
    }
    const p = parts as Exclude<typeof parts, string>;
    const chunk = this.#chunk;
    chunk.add(future, metadata, p, dataLength(p), options?.partition ?? -1, options?.key);
    if (chunk.size >= this.#options.chunkSize || chunk.dataBytes >= this.#options.maxChunkDataBytes) this.#dispatch();
    else if (!this.#dispatchScheduled) {
      // A partial chunk leaves once the caller's synchronous code yields.
      this.#dispatchScheduled = true;
      setImmediate(() => {
        this.#dispatchScheduled = false;
        this.#dispatch();
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
  pushMany(events: Iterable<BulkEvent> | AsyncIterable<BulkEvent>): AsyncGenerator<BulkAck, void, undefined> {
    return pushMany(this, events);
  }

  /** Events pushed and not yet settled. */
  get pending(): number {
    return this.#capacity.pending;
  }

  /**
   * False while `pending` is at or above `maxPendingEvents` (with a WAL: events not yet
   * durable), or the WAL holds `wal.maxBytes`: then `await ready()`.
   */
  get hasCapacity(): boolean {
    return this.#capacity.hasCapacity && !this.#walFull;
  }

  /**
   * Resolves when the producer's transport thread is up and the producer has capacity
   * (pending events below `maxPendingEvents`, or down to half of it after it was full).
   * The backpressure pattern of a fire-and-forget loop:
   * `if (!producer.hasCapacity) await producer.ready();`
   */
  ready(): Promise<void> {
    // The first call also waits for the transport thread to be up and connecting.
    if (this.#lifecycle.state === "starting") return this.#started.then(() => this.ready());
    if (this.hasCapacity || this.#broken) return Promise.resolve();
    // A waiting pusher pushes nothing more: send partial chunks and batches now.
    const wait = this.#capacity.hasCapacity ? new Promise<void>((resolve) => this.#walWaiters.push(resolve)) : this.#capacity.wait();
    this.#dispatch();
    this.#pump();
    return wait.then(() => this.ready());
  }

  /**
   * Resolves once every event pushed before the call is acknowledged or failed; with
   * `{ durable: true }`, once each is durable in the WAL (or settled) instead.
   */
  flush(options: FlushOptions = {}): Promise<void> {
    const tracker = options.durable && this.#durables ? this.#durables : this.#flushes;
    const done = tracker.flush(this.#pushed);
    if (tracker.waiting > 0) {
      this.#dispatch();
      this.#pump();
    }
    // What an earlier run left in the WAL is replayed first: a full flush covers it too.
    if (this.#wal && !options.durable) return Promise.all([done, this.#started.then(() => this.#replayDone())]).then(() => undefined);
    return done;
  }

  #replayDone(): Promise<void> {
    if (this.#replayLeft === 0 || this.#broken) return Promise.resolve();
    return new Promise((resolve) => this.#replayWaiters.push(resolve));
  }

  /** A batch answered that this run never sent: a replayed one. */
  #replayAnswered(failed: boolean): void {
    if (this.#replayLeft === 0) return;
    if (failed) this.#replayFailed++;
    if (--this.#replayLeft === 0) for (const resolve of this.#replayWaiters.splice(0)) resolve();
  }

  /** @internal Called once the producer has closed (the driver forgets it). */
  onClosed: (() => void) | undefined;

  /** Flushes, then stops the transport thread. `push()` throws from now on. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#lifecycle.to("closing");
      await this.#started;
      await this.flush();
      await this.#transport?.close();
      this.#wal?.release();
      clearInterval(this.#expiryTimer);
      clearTimeout(this.#lingerTimer);
      this.#lifecycle.to("closed");
      this.onClosed?.();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Listens for failed events (validation, log refusal, delivery timeout). */
  on(event: "error", listener: ErrorListener): this {
    if (event === "error") this.#settlement.listeners.add(listener);
    return this;
  }

  off(event: "error", listener: ErrorListener): this {
    if (event === "error") this.#settlement.listeners.delete(listener);
    return this;
  }

  async stats(): Promise<ProducerStats> {
    const transport = this.#transport && !this.#lifecycle.closing ? await this.#transport.stats() : undefined;
    return {
      pushed: this.#pushed,
      acknowledged: this.#settlement.acknowledged,
      failed: this.#settlement.failed,
      pending: this.#capacity.pending,
      chunks: this.#runner.dispatched,
      chunksHeldBack: this.#sequencer.heldBack,
      batches: this.#batches,
      meanBatchEvents: this.#batches ? this.#batchedEvents / this.#batches : 0,
      transport,
      wal: this.#wal
        ? { bytes: this.#walBytes, replayedBatches: this.#replayed.batches, replayedEvents: this.#replayed.events, replayFailedBatches: this.#replayFailed }
        : undefined,
    };
  }

  #dispatch(): void {
    if (this.#chunk.size === 0) return;
    const chunk = this.#chunk;
    this.#chunk = new ChunkBuilder();
    this.#runner.run(chunk);
  }

  /** A chunk leaves the sequencer: failures settle, survivors queue per partition. */
  #release({ chunk, output }: FinishedChunk): void {
    if (!output) return this.#pump();
    const futures = chunk.futures;
    for (const failure of output.failures) {
      const f = futures[failure.index]!;
      this.#settlement.fail(f, new ValidationError(f.index, failure.stage, failure.reason));
    }
    const byPartition: (typeof futures)[] = [];
    const eventPartition = output.eventPartition;
    for (let i = 0; i < futures.length; i++) {
      const p = eventPartition[i]!;
      if (p >= 0) (byPartition[p] ??= []).push(futures[i]!);
    }
    const now = Date.now();
    for (const part of output.parts) this.#batchers[part.partition]!.enqueue(part.records, byPartition[part.partition]!, now);
    this.#pump();
  }

  /** Sends every batch that may leave now. */
  #pump(): void {
    if (this.#broken) return this.#failQueued(this.#broken);
    if (!this.#transport) return;
    // While somebody waits (a flush, a pusher at capacity), a fixed-size batcher sends partial batches.
    const partial = this.#flushes.waiting > 0 || this.#capacity.waiting > 0 || (this.#durables?.waiting ?? 0) > 0 || this.#walWaiters.length > 0;
    const now = Date.now();
    let lingerAt = Infinity;
    for (const batcher of this.#batchers) {
      if (batcher.queued === 0) continue;
      for (const batch of batcher.take(partial, now)) this.#send(batch);
      lingerAt = Math.min(lingerAt, batcher.lingerDeadline);
    }
    // A batch waiting for its linger time leaves when it is up, pushes or not.
    if (lingerAt !== Infinity && lingerAt < this.#lingerAt) {
      clearTimeout(this.#lingerTimer);
      this.#lingerAt = lingerAt;
      this.#lingerTimer = setTimeout(() => {
        this.#lingerAt = Infinity;
        this.#pump();
      }, Math.max(0, lingerAt - now));
    }
  }

  #send(batch: ReadyBatch): void {
    this.#inFlight.add(batch.partition, batch.seq, batch.futures);
    if (this.#wal) this.#walAdd(batch.bytes);
    this.#batches++;
    this.#batchedEvents += batch.futures.length;
    const transfer: ArrayBuffer[] = [];
    // A blob that owns its whole buffer moves; a slice is copied so that only its own
    // bytes cross (posting a view would clone the whole underlying buffer).
    const parts = batch.parts.map((p) => {
      const owned = p.byteOffset === 0 && p.byteLength === p.buffer.byteLength ? p : p.slice();
      transfer.push(owned.buffer as ArrayBuffer);
      return owned;
    });
    const deadline = batch.since + this.#options.deliveryTimeoutMs;
    this.#transport!.send({ t: "batch", partition: batch.partition, seq: batch.seq, count: batch.futures.length, deadline, parts }, transfer);
  }

  #onAcks(msg: AcksMessage): void {
    const { acks, ids, durable } = msg;
    if (durable) {
      for (let i = 0; i < durable.length; i += 2) {
        const batch = this.#inFlight.get(durable[i]!, durable[i + 1]!);
        if (!batch) continue;
        this.#settlement.durable(batch.futures);
        this.#freeSlot(durable[i]!, batch);
      }
    }
    if (msg.walBytes !== undefined) this.#walSet(msg.walBytes);
    for (let i = 0; i < acks.length; i += ACK_FIELDS) {
      const partition = acks[i]!;
      const futures = this.#batchDone(partition, acks[i + 1]!);
      if (futures === NO_FUTURES) this.#replayAnswered(false);
      else this.#settlement.acknowledge(futures, partition, acks[i + 2]!, ids, acks[i + 4]!);
    }
    for (const failure of msg.failures) {
      const futures = this.#batchDone(failure.partition, failure.seq);
      if (futures === NO_FUTURES) this.#replayAnswered(true);
      const shared =
        failure.code === "timeout"
          ? undefined
          : failure.code === "CLOSED"
            ? new ClosedError(failure.message)
            : new BrokerError(failure.code as BrokerErrorCode, failure.message);
      for (const f of futures) {
        this.#settlement.fail(f, shared ?? new DeliveryTimeoutError(f.index, this.#options.deliveryTimeoutMs, failure.message), failure.partition);
      }
    }
    this.#pump();
  }

  /** The futures of an answered batch; its partition's batcher gets the slot back (if durability did not already). */
  #batchDone(partition: number, seq: number): readonly EventFuture[] {
    const batch = this.#inFlight.take(partition, seq);
    if (!batch) return NO_FUTURES;
    this.#freeSlot(partition, batch);
    return batch.futures;
  }

  #freeSlot(partition: number, batch: InFlightBatch): void {
    if (batch.slotFreed) return;
    batch.slotFreed = true;
    this.#batchers[partition]!.done();
  }

  /** Bytes handed to the WAL, before the transport reports its size again. */
  #walAdd(bytes: number): void {
    this.#walSet(this.#walBytes + bytes);
  }

  /** The WAL's size: full at maxBytes, room again at half (hysteresis, like the capacity gate). */
  #walSet(bytes: number): void {
    this.#walBytes = bytes;
    const max = this.#options.wal!.maxBytes;
    if (!this.#walFull && bytes >= max) this.#walFull = true;
    else if (this.#walFull && bytes <= max / 2) {
      this.#walFull = false;
      this.#wakeWalWaiters();
    }
  }

  #wakeWalWaiters(): void {
    for (const resolve of this.#walWaiters.splice(0)) resolve();
  }

  #expireQueued(): void {
    const cutoff = Date.now() - this.#options.deliveryTimeoutMs;
    for (const batcher of this.#batchers) {
      if (batcher.queued === 0) continue;
      for (const f of batcher.expire(cutoff)) {
        this.#settlement.fail(f, new DeliveryTimeoutError(f.index, this.#options.deliveryTimeoutMs, "the log took no batch of this partition in time"), batcher.partition);
      }
    }
  }

  /** The transport thread could not start: nothing queued can ever be sent. */
  #failQueued(err: Error): void {
    for (const batcher of this.#batchers) {
      while (batcher.queued > 0) {
        for (const batch of batcher.take(true)) {
          batcher.done();
          for (const f of batch.futures) this.#settlement.fail(f, err, batch.partition);
        }
      }
    }
  }
}
