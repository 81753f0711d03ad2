/**
 * Per-partition batching: events arrive as record blobs from finished chunks (already in
 * the order the sequencer released them) and leave as batches, at most `maxInFlight`
 * unacknowledged (or, with a WAL, not yet durable) at a time.
 *
 * - Adaptive: whenever a slot is free, everything queued leaves as one batch. A lone
 *   event leaves at once; while the log is slow, events pile up and the next batch is
 *   bigger.
 * - Fixed n: a batch leaves with exactly n events, or fewer when a flush asks for it.
 *
 * Either way a batch also leaves once its events fill `maxBatchBytes`, and once its
 * first event waited `lingerMs` (default: at once for Adaptive, never for fixed n).
 */
import type { EventFuture } from "../core/future.js";
import { recordOffset, recordsWithin } from "../core/records.js";

interface QueuedPart {
  records: Uint8Array;
  futures: EventFuture[];
  /** When the part was queued (ms since epoch): its delivery deadline counts from here. */
  since: number;
  /** When its first event was pushed (ms since epoch). */
  pushedAt: number;
}

/** A batch ready to go: its blobs (sent back to back) and its events' futures. */
export interface ReadyBatch {
  partition: number;
  seq: number;
  parts: Uint8Array[];
  futures: EventFuture[];
  bytes: number;
  /** When the oldest of its events was queued (ms since epoch). */
  since: number;
  /** When the first of its events was pushed (ms since epoch). */
  pushedAt: number;
}

export interface BatchPolicy {
  /** Events per batch, or "adaptive". */
  size: number | "adaptive";
  maxInFlight: number;
  /** Caps of one batch, at or below the log's limits. */
  maxBatchEvents: number;
  maxBatchBytes: number;
  /** A batch leaves at most this long after its first event was queued (slots allowing). */
  lingerMs: number;
}

export class PartitionBatcher {
  private readonly queue: QueuedPart[] = [];
  private queuedEvents = 0;
  private queuedBytes = 0;
  private nextSeq = 0;
  private sent = 0;

  constructor(readonly partition: number, private readonly policy: BatchPolicy) {}

  /** Events waiting for a batch. */
  get queued(): number {
    return this.queuedEvents;
  }

  /** Batches taken and not yet reported {@link done}. */
  get inFlight(): number {
    return this.sent;
  }

  /** A batch this batcher handed out was acknowledged or failed: its slot is free again. */
  done(): void {
    this.sent--;
  }

  /** Numbers the next batch `seq` (a WAL of an earlier run used the ones below). */
  startAt(seq: number): void {
    if (seq > this.nextSeq) this.nextSeq = seq;
  }

  /** When the queued head will have lingered long enough to leave (Infinity: never by itself, or no slot). */
  get lingerDeadline(): number {
    if (this.queuedEvents === 0 || this.sent >= this.policy.maxInFlight) return Infinity;
    return this.queue[0]!.since + this.policy.lingerMs;
  }

  enqueue(records: Uint8Array, futures: EventFuture[], now = Date.now(), pushedAt = now): void {
    this.queue.push({ records, futures, since: now, pushedAt });
    this.queuedEvents += futures.length;
    this.queuedBytes += records.byteLength;
  }

  /**
   * Takes the batches that may leave now. `partial` lets a fixed-size batcher send fewer
   * than n events (flush, or a producer waiting for capacity).
   */
  take(partial: boolean, now = Date.now()): ReadyBatch[] {
    const out: ReadyBatch[] = [];
    const { size, maxInFlight, maxBatchEvents, maxBatchBytes, lingerMs } = this.policy;
    const limit = size === "adaptive" ? maxBatchEvents : size;
    while (this.sent < maxInFlight && this.queuedEvents > 0) {
      const full = this.queuedEvents >= limit || this.queuedBytes >= maxBatchBytes;
      if (!full && !partial && now - this.queue[0]!.since < lingerMs) break;
      out.push(this.cut(limit));
      this.sent++;
    }
    return out;
  }

  /**
   * Removes the parts queued at or before `cutoff` (ms since epoch) that never left, and
   * returns their futures: the broker took nothing for longer than the delivery timeout.
   */
  expire(cutoff: number): EventFuture[] {
    const out: EventFuture[] = [];
    while (this.queue.length > 0 && this.queue[0]!.since <= cutoff) {
      const part = this.queue.shift()!;
      this.queuedEvents -= part.futures.length;
      this.queuedBytes -= part.records.byteLength;
      for (const f of part.futures) out.push(f);
    }
    return out;
  }

  /** Removes up to `maxEvents` (and about maxBatchBytes) from the head of the queue. */
  private cut(maxEvents: number): ReadyBatch {
    const parts: Uint8Array[] = [];
    const futures: EventFuture[] = [];
    const since = this.queue[0]?.since ?? Date.now();
    const pushedAt = this.queue[0]?.pushedAt ?? since;
    let bytes = 0;
    while (this.queue.length > 0 && futures.length < maxEvents) {
      const head = this.queue[0]!;
      let room = maxEvents - futures.length;
      if (parts.length > 0 && bytes + head.records.byteLength > this.policy.maxBatchBytes) break;
      // A chunk's blob alone can exceed the byte cap (large events): take what fits.
      if (head.records.byteLength > this.policy.maxBatchBytes) {
        room = Math.min(room, recordsWithin(head.records, head.futures.length, this.policy.maxBatchBytes));
      }
      if (head.futures.length <= room) {
        this.queue.shift();
        parts.push(head.records);
        for (const f of head.futures) futures.push(f);
        bytes += head.records.byteLength;
      } else {
        // Split the blob at a record boundary; the rest stays queued.
        const at = recordOffset(head.records, room);
        parts.push(head.records.subarray(0, at));
        for (let i = 0; i < room; i++) futures.push(head.futures[i]!);
        head.records = head.records.subarray(at);
        head.futures = head.futures.slice(room);
        bytes += at;
      }
    }
    this.queuedEvents -= futures.length;
    this.queuedBytes -= bytes;
    return { partition: this.partition, seq: this.nextSeq++, parts, futures, bytes, since, pushedAt };
  }
}
