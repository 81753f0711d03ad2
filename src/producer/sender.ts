/**
 * The sending side of a producer: per-partition batchers → batches handed to the
 * transport thread → the in-flight table until each batch is answered. Also the linger
 * timer (a batch waiting for its linger time leaves when it is up), the expiry of events
 * that never left, and failing everything when nothing can be sent any more.
 */
import { DeliveryTimeoutError } from "../core/errors.js";
import type { EventFuture } from "../core/future.js";
import type { TransportHost } from "../transport/transport-host.js";
import { InFlightTable, type InFlightBatch } from "./in-flight.js";
import type { ProducerObserver } from "./observer.js";
import { PartitionBatcher, type BatchPolicy, type ReadyBatch } from "./partition-batcher.js";
import type { Settlement } from "./settlement.js";

export class Sender {
  readonly #batchers: PartitionBatcher[];
  readonly #inFlight = new InFlightTable();
  #transport: TransportHost | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #lingerAt = Infinity;
  batches = 0;
  batchedEvents = 0;

  constructor(
    partitions: number,
    policy: BatchPolicy,
    private readonly deliveryTimeoutMs: number,
    private readonly settlement: Settlement,
    private readonly hooks: { observer?: ProducerObserver; sent?(bytes: number): void },
  ) {
    this.#batchers = Array.from({ length: partitions }, (_, p) => new PartitionBatcher(p, policy));
  }

  /** Batches sent and not yet answered. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** The transport is up; `nextSeqs` number new batches after those an earlier run left in the WAL. */
  attach(transport: TransportHost, nextSeqs: readonly (readonly [number, number])[]): void {
    this.#transport = transport;
    for (const [p, seq] of nextSeqs) this.#batchers[p]?.startAt(seq);
  }

  /** Queues a finished chunk's records of one partition. */
  enqueue(partition: number, records: Uint8Array, futures: EventFuture[], now: number, pushedAt: number): void {
    this.#batchers[partition]!.enqueue(records, futures, now, pushedAt);
  }

  /**
   * Sends every batch that may leave now; `partial` lets fixed-size batches leave short
   * (somebody waits: a flush, a pusher at capacity).
   */
  pump(partial: boolean): void {
    if (!this.#transport) return;
    const now = Date.now();
    let lingerAt = Infinity;
    for (const batcher of this.#batchers) {
      if (batcher.queued === 0) continue;
      for (const batch of batcher.take(partial, now)) this.#send(batch);
      lingerAt = Math.min(lingerAt, batcher.lingerDeadline);
    }
    if (lingerAt !== Infinity && lingerAt < this.#lingerAt) {
      clearTimeout(this.#lingerTimer);
      this.#lingerAt = lingerAt;
      this.#lingerTimer = setTimeout(() => {
        this.#lingerAt = Infinity;
        this.pump(false);
      }, Math.max(0, lingerAt - now));
    }
  }

  /** A batch became durable (WAL): its futures, left in flight until the ack; the partition's slot is free again. */
  durable(partition: number, seq: number): InFlightBatch | undefined {
    const batch = this.#inFlight.get(partition, seq);
    if (batch) this.#freeSlot(partition, batch);
    return batch;
  }

  /** A batch was answered (ack or failure): its futures; undefined for a batch this run never sent (a replayed one). */
  answered(partition: number, seq: number): InFlightBatch | undefined {
    const batch = this.#inFlight.take(partition, seq);
    if (batch) this.#freeSlot(partition, batch);
    return batch;
  }

  /** Fails the events queued for longer than the delivery timeout (the log took nothing). */
  expire(): void {
    const cutoff = Date.now() - this.deliveryTimeoutMs;
    for (const batcher of this.#batchers) {
      if (batcher.queued === 0) continue;
      for (const f of batcher.expire(cutoff)) {
        this.settlement.fail(f, new DeliveryTimeoutError(f.index, this.deliveryTimeoutMs, "the log took no batch of this partition in time"), batcher.partition);
      }
    }
  }

  /** Nothing can be sent any more: fails what is queued, and (`inFlightToo`) what is in flight. */
  failAll(err: Error, inFlightToo: boolean): void {
    if (inFlightToo) for (const { partition, batch } of this.#inFlight.drain()) for (const f of batch.futures) this.settlement.fail(f, err, partition);
    // Straight out of the queues: taking batches would need free slots, and a full
    // in-flight window never frees one once nothing is sent.
    for (const batcher of this.#batchers) {
      if (batcher.queued === 0) continue;
      for (const f of batcher.expire(Infinity)) this.settlement.fail(f, err, batcher.partition);
    }
  }

  stop(): void {
    clearTimeout(this.#lingerTimer);
  }

  #send(batch: ReadyBatch): void {
    this.#inFlight.add(batch.partition, batch.seq, batch.futures, batch.pushedAt);
    this.hooks.sent?.(batch.bytes);
    this.hooks.observer?.batchSent(batch.partition, batch.futures.length, batch.bytes);
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
    const deadline = batch.since + this.deliveryTimeoutMs;
    this.#transport!.send({ t: "batch", partition: batch.partition, seq: batch.seq, count: batch.futures.length, deadline, parts }, transfer);
  }

  #freeSlot(partition: number, batch: InFlightBatch): void {
    if (batch.slotFreed) return;
    batch.slotFreed = true;
    this.#batchers[partition]!.done();
  }
}
