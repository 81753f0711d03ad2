/**
 * The Producer: main-thread entry of the pipeline, a facade over small parts.
 *
 *   push() ─► ChunkBuilder ─► ChunkRunner (ThreadPool: validate → select → serialize)
 *          ─► Sequencer (Strict: push order) ─► Sender (PartitionBatcher: fixed n |
 *             adaptive; in-flight table) ─► TransportHost (transport thread, the driver's
 *             appender, the WAL) ─► acks ─► Settlement (futures, FlushTracker, CapacityGate)
 *
 * Work on the main thread per event is a handful of array pushes; everything that
 * crosses a thread crosses per chunk or per batch.
 */
import { randomUUID } from "node:crypto";
import { abortable, settleWithin } from "../core/abort.js";
import { BrokerError, ClosedError, DeliveryTimeoutError, ValidationError, type BrokerErrorCode } from "../core/errors.js";
import { stderrLogger, type Logger } from "../core/logger.js";
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
import { FailureLog } from "./failure-log.js";
import { FlushTracker } from "./flush-tracker.js";
import type { ProducerCounters, ProducerObserver } from "./observer.js";
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from "./options.js";
import { Sender } from "./sender.js";
import { Sequencer } from "./sequencer.js";
import { Settlement, type DeliveryListener, type ErrorListener } from "./settlement.js";
import { Lifecycle } from "./state.js";
import { WalState } from "./wal-state.js";

export type { BulkAck, BulkEvent } from "./bulk.js";
export type { TransportStats } from "../transport/messages.js";

/** What a producer needs to know of its topic and its log. */
export interface ProducerTarget {
  topic: TopicDescription;
  /** The pipeline in its runnable form (resolved on this side). */
  specs: PipelineSpecs;
  capabilities: DriverCapabilities;
  /** How the transport thread appends, given the producer ID. */
  appender(producerId: string): AppenderSpec;
  /** Where the producer logs (its driver's logger). */
  logger?: Logger;
  /** Metrics: an observer of batches for this producer, if the driver exports metrics. */
  observe?: (producer: Producer) => ProducerObserver | undefined;
}

/** What `flush` waits for. */
export interface FlushOptions {
  /** Wait only until every earlier event is durable in the WAL (or settled), not acknowledged. */
  durable?: boolean;
  /** Stops waiting (rejecting with the signal's reason); the events are not affected. */
  signal?: AbortSignal;
}

/** How long `close` may take. */
export interface CloseOptions {
  /**
   * Longest wait for the events pushed before `close()` to be acknowledged. Those still
   * unacknowledged then fail with ClosedError; with a WAL, the durable ones stay in the
   * WAL and the next producer of this name delivers them. Default: no limit.
   */
  timeoutMs?: number;
  /** Stops waiting as the timeout would. */
  signal?: AbortSignal;
}

/** What became of the events when a producer closed. */
export interface CloseReport {
  topic: string;
  producer: string;
  pushed: number;
  acknowledged: number;
  failed: number;
  /** Durable in the WAL, not acknowledged: the next producer of this name delivers them. */
  leftInWal: number;
  /** Failed because the close cut the wait short, and not in a WAL: never delivered. */
  lost: number;
  /** True when the timeout or the signal cut the wait short. */
  cutShort: boolean;
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
  readonly #walState: WalState | undefined;
  readonly #capacity: CapacityGate;
  readonly #settlement: Settlement;
  readonly #sequencer: Sequencer<FinishedChunk>;
  readonly #runner: ChunkRunner;
  readonly #sender: Sender;
  readonly #started: Promise<void>;
  readonly #expiryTimer: NodeJS.Timeout;
  #transport: TransportHost | undefined;
  /** Why nothing more can be sent: the transport never started, or close() gave up waiting. */
  #broken: Error | undefined;
  #closing: Promise<CloseReport> | undefined;
  readonly #logger: Logger;
  readonly #observer: ProducerObserver | undefined;

  #chunk = new ChunkBuilder();
  #dispatchScheduled = false;
  #pushed = 0;

  /** @internal Use `topic.producer(options)`. */
  constructor(target: ProducerTarget, pool: ThreadPool, options: ProducerOptions = {}) {
    const { partitions } = target.topic;
    this.#options = resolveProducerOptions(options, partitions, target.capabilities);
    this.#target = target;
    this.#capacity = new CapacityGate(this.#options.maxPendingEvents);
    const wal = this.#options.wal;
    // Claimed here, synchronously: a second producer of the same WAL fails at creation.
    this.#wal = wal ? claimWal(wal.dir, target.topic.name, this.#options.name) : undefined;
    this.#walState = wal ? new WalState(wal.maxBytes) : undefined;
    this.#durables = wal ? new FlushTracker() : undefined;
    this.#logger = target.logger ?? stderrLogger;
    this.#settlement = new Settlement(this.#flushes, this.#capacity, this.#durables, this.#logger, new FailureLog(this.#logger, this.#options.name, target.topic.name));
    if (options.onError) this.#settlement.errorListeners.add(options.onError);
    // With a WAL the ID is the WAL's, so that a restarted producer re-sends under it.
    this.producerId = this.#wal?.meta.producerId ?? `${this.#options.name}-${randomUUID()}`;
    const policy = {
      size: this.#options.batchSize,
      maxInFlight: this.#options.maxNumBatches,
      maxBatchEvents: this.#options.maxBatchEvents,
      maxBatchBytes: this.#options.maxBatchBytes,
      lingerMs: this.#options.lingerMs,
    };
    this.#sequencer = new Sequencer(this.#options.strict, (done) => this.#release(done));
    this.#observer = target.observe?.(this);
    const walState = this.#walState;
    this.#sender = new Sender(partitions, policy, this.#options.deliveryTimeoutMs, this.#settlement, {
      observer: this.#observer,
      sent: walState && ((bytes) => walState.add(bytes)),
    });
    this.#runner = new ChunkRunner(
      pool,
      { specs: target.specs, numPartitions: partitions, maxEventBytes: target.capabilities.maxEventBytes },
      this.#sequencer,
      this.#settlement,
    );
    // Events that cannot even leave the producer (the log takes nothing) fail at their
    // delivery deadline too, counted from when they were queued, not from when they are sent.
    this.#expiryTimer = setInterval(() => this.#sender.expire(), Math.min(1000, Math.max(20, this.#options.deliveryTimeoutMs / 4)));
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
        this.#sender.attach(host, opened.nextSeqs);
        this.#walState?.replaying(opened.replayed);
        this.#walState?.set(opened.walBytes);
        this.#lifecycle.tryTo("open");
        this.#pump();
      },
      (err: unknown) => {
        this.#broken = err instanceof Error ? err : new Error(String(err));
        this.#wal?.release();
        this.#lifecycle.tryTo("broken");
        this.#capacity.openAll();
        this.#walState?.release();
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
    const future = new EventFuture(this.#pushed++, options?.onDelivery);
    this.#flushes.pushed();
    this.#durables?.pushed();
    this.#capacity.add();
    const parts = normalizeData(data);
    const problem = typeof parts === "string" ? parts : (metadataProblem(metadata) ?? pushOptionsProblem(options, this.#target.topic.partitions));
    if (problem !== undefined) {
      this.#settlement.fail(future, new ValidationError(future.index, "input", problem));
      return future;
    }
    const p = parts as Exclude<typeof parts, string>;
    const chunk = this.#chunk;
    chunk.add(future, metadata, p, dataLength(p), options?.partition ?? -1, options?.key, options?.headers);
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
    return this.#capacity.hasCapacity && !this.#walState?.full;
  }

  /**
   * Resolves when the producer's transport thread is up and the producer has capacity
   * (pending events below `maxPendingEvents`, or down to half of it after it was full).
   * The backpressure pattern of a fire-and-forget loop:
   * `if (!producer.hasCapacity) await producer.ready();`
   */
  ready(options: { signal?: AbortSignal } = {}): Promise<void> {
    return abortable(this.#ready(), options.signal);
  }

  #ready(): Promise<void> {
    // The first call also waits for the transport thread to be up and connecting.
    if (this.#lifecycle.state === "starting") return this.#started.then(() => this.#ready());
    if (this.hasCapacity || this.#broken) return Promise.resolve();
    // A waiting pusher pushes nothing more: send partial chunks and batches now.
    const wait = this.#capacity.hasCapacity ? this.#walState!.waitForRoom() : this.#capacity.wait();
    this.#dispatch();
    this.#pump();
    return wait.then(() => this.#ready());
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
    const wal = this.#walState;
    const all = wal && !options.durable ? Promise.all([done, this.#started.then(() => (this.#broken ? undefined : wal.replayDone()))]).then(() => undefined) : done;
    return abortable(all, options.signal);
  }

  /** @internal Called once the producer has closed (the driver forgets it). */
  onClosed: (() => void) | undefined;

  /**
   * Stops intake (`push()` throws ClosedError from now on), waits until the events pushed
   * before are acknowledged (at most `timeoutMs`), stops the transport and reports what
   * became of the events. Idempotent: later calls return the first call's report.
   */
  close(options: CloseOptions = {}): Promise<CloseReport> {
    this.#closing ??= this.#close(options.timeoutMs ?? Infinity, options.signal);
    return this.#closing;
  }

  async #close(timeoutMs: number, signal: AbortSignal | undefined): Promise<CloseReport> {
    this.#lifecycle.to("closing");
    const flushed = await settleWithin(this.#started.then(() => this.flush()), timeoutMs, signal);
    const leftInWal = this.#settlement.durableOpen;
    if (flushed !== "done") {
      // Give up on what is left: it fails with ClosedError (durable events stay in the WAL).
      const why = this.#wal
        ? `producer '${this.#options.name}' closed (${flushed}) before the event was acknowledged; if it was durable it stays in the WAL for the next producer of this name`
        : `producer '${this.#options.name}' closed (${flushed}) before the event was acknowledged`;
      this.#broken ??= new ClosedError(why);
    }
    const failedBefore = this.#settlement.failed;
    // A transport still starting is closed once it is up: its session would keep the process alive.
    await this.#started;
    await this.#transport?.close();
    if (flushed !== "done") {
      this.#sender.failAll(this.#broken!, true);
      this.#dispatch();
      // Chunks still in the pipeline fail as they come out of it.
      await settleWithin(this.#flushes.flush(this.#pushed), 2000, undefined);
    }
    this.#wal?.release();
    clearInterval(this.#expiryTimer);
    this.#sender.stop();
    this.#capacity.openAll();
    this.#walState?.release();
    this.#lifecycle.to("closed");
    this.onClosed?.();
    return {
      topic: this.topic,
      producer: this.#options.name,
      pushed: this.#pushed,
      acknowledged: this.#settlement.acknowledged,
      failed: this.#settlement.failed,
      leftInWal: flushed === "done" ? 0 : leftInWal,
      lost: flushed === "done" ? 0 : Math.max(0, this.#settlement.failed - failedBefore - leftInWal),
      cutShort: flushed !== "done",
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * `"error"`: every failed event (validation, log refusal, delivery timeout).
   * `"delivery"`: every event's outcome, `(error, id, partition, future)`, without a
   * Promise per event.
   */
  on(event: "error", listener: ErrorListener): this;
  on(event: "delivery", listener: DeliveryListener): this;
  on(event: "error" | "delivery", listener: ErrorListener | DeliveryListener): this {
    if (event === "error") this.#settlement.errorListeners.add(listener as ErrorListener);
    else if (event === "delivery") this.#settlement.deliveryListeners.add(listener as DeliveryListener);
    return this;
  }

  off(event: "error" | "delivery", listener: ErrorListener | DeliveryListener): this {
    if (event === "error") this.#settlement.errorListeners.delete(listener as ErrorListener);
    else if (event === "delivery") this.#settlement.deliveryListeners.delete(listener as DeliveryListener);
    return this;
  }

  /** @internal Counters and gauges for a metrics exporter, read at scrape time. */
  counters(): ProducerCounters {
    return {
      topic: this.topic,
      producer: this.#options.name,
      pushed: this.#pushed,
      acknowledged: this.#settlement.acknowledgedBy,
      failed: this.#settlement.failedBy,
      pending: this.#capacity.pending,
      batchesInFlight: this.#sender?.inFlight ?? 0, // read before the sender exists when metrics attach
      walBytes: this.#walState?.bytes,
    };
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
      batches: this.#sender.batches,
      meanBatchEvents: this.#sender.batches ? this.#sender.batchedEvents / this.#sender.batches : 0,
      transport,
      wal: this.#walStats(),
    };
  }

  #walStats(): ProducerStats["wal"] {
    const w = this.#walState;
    return w && { bytes: w.bytes, replayedBatches: w.replayed.batches, replayedEvents: w.replayed.events, replayFailedBatches: w.replayFailed };
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
    for (const part of output.parts) this.#sender.enqueue(part.partition, part.records, byPartition[part.partition]!, now, chunk.firstPushAt);
    this.#pump();
  }

  /** Sends every batch that may leave now; fails what is queued once nothing can be sent. */
  #pump(): void {
    if (this.#broken) return this.#sender.failAll(this.#broken, false);
    // While somebody waits (a flush, a pusher at capacity), a fixed-size batcher sends partial batches.
    const partial = this.#flushes.waiting > 0 || this.#capacity.waiting > 0 || (this.#durables?.waiting ?? 0) > 0 || (this.#walState?.waiting ?? 0) > 0;
    this.#sender.pump(partial);
  }

  #onAcks(msg: AcksMessage): void {
    const { acks, ids, durable } = msg;
    if (durable) {
      for (let i = 0; i < durable.length; i += 2) {
        const batch = this.#sender.durable(durable[i]!, durable[i + 1]!);
        if (batch) this.#settlement.durable(batch.futures);
      }
    }
    if (msg.walBytes !== undefined) this.#walState?.set(msg.walBytes);
    const observer = this.#observer;
    for (let i = 0; i < acks.length; i += ACK_FIELDS) {
      const partition = acks[i]!;
      const batch = this.#sender.answered(partition, acks[i + 1]!);
      if (!batch) this.#walState?.replayAnswered(false);
      else {
        this.#settlement.acknowledge(batch.futures, partition, acks[i + 2]!, ids, acks[i + 4]!);
        observer?.batchAcked(partition, batch.futures.length, Date.now() - batch.pushedAt);
      }
    }
    for (const failure of msg.failures) {
      const batch = this.#sender.answered(failure.partition, failure.seq);
      if (!batch) {
        this.#walState?.replayAnswered(true);
        continue;
      }
      const shared =
        failure.code === "timeout"
          ? undefined
          : failure.code === "CLOSED"
            ? new ClosedError(failure.message)
            : new BrokerError(failure.code as BrokerErrorCode, failure.message);
      for (const f of batch.futures) {
        this.#settlement.fail(f, shared ?? new DeliveryTimeoutError(f.index, this.#options.deliveryTimeoutMs, failure.message), failure.partition);
      }
    }
    this.#pump();
  }
}
