/**
 * The append-only log of one partition: a directory of segments, contiguous event IDs
 * from 0, a checksum per batch, an fsync policy, and a dedupe table that answers a
 * re-sent (producerId, batchSeq) with its original IDs.
 */
import fs from "node:fs";
import { fdatasync } from "node:fs";
import { encodeFrameHeader, MAX_PRODUCER_ID_BYTES } from "./segment-format.js";
import { Segment, type RecoveredBatch } from "./segment.js";
import { recordOffset } from "../core/records.js";

/** When appended batches are forced to disk. */
export type FsyncPolicy = "always" | "interval" | "never";
export const FSYNC_POLICIES: readonly FsyncPolicy[] = ["always", "interval", "never"];

export interface PartitionLogOptions {
  fsync: FsyncPolicy;
  /** Period of the background fsync under `interval`. */
  fsyncIntervalMs: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  /** Batches per producer remembered for dedupe. */
  dedupeWindow: number;
}

export interface AppendResult {
  firstEventId: number;
  count: number;
  duplicate: boolean;
  /** Resolves once the batch is on disk as the fsync policy requires. */
  durable: Promise<void> | undefined;
}

/** A run of consecutive events read from the log. */
export interface ReadChunk {
  firstEventId: number;
  count: number;
  timestampMs: number;
  records: Buffer;
}

interface ProducerWindow {
  seqs: Map<number, { first: number; count: number }>;
  order: number[];
}

export class PartitionLog {
  private readonly segments: Segment[] = [];
  private readonly producers = new Map<string, ProducerWindow>();
  private nextId = 0;
  private lastTimestamp = 0;
  private waiters: (() => void)[] = [];
  private syncTimer: NodeJS.Timeout | undefined;
  private dirty = false;
  private syncInFlight: Promise<void> | undefined;
  private syncQueued: Promise<void> | undefined;
  private closed = false;

  private constructor(readonly dir: string, private readonly options: PartitionLogOptions) {}

  /** Opens (or creates) the log in `dir`, recovering from a torn tail. */
  static open(dir: string, options: PartitionLogOptions): PartitionLog {
    fs.mkdirSync(dir, { recursive: true });
    const log = new PartitionLog(dir, options);
    const bases = fs
      .readdirSync(dir)
      .filter((f) => /^\d{20}\.log$/.test(f))
      .map((f) => Number(f.slice(0, 20)))
      .sort((a, b) => a - b);
    const recovered: RecoveredBatch[] = [];
    bases.forEach((base, i) => log.segments.push(Segment.open(dir, base, i === bases.length - 1, recovered)));
    if (log.segments.length === 0) log.segments.push(Segment.create(dir, 0));
    const active = log.active;
    log.nextId = active.nextOffset;
    const ts = active.timestamps;
    log.lastTimestamp = ts.length > 0 ? ts[ts.length - 1]! : 0;
    log.recoverDedupe(recovered);
    if (options.fsync === "interval") {
      log.syncTimer = setInterval(() => log.syncIfDirty(), options.fsyncIntervalMs);
      log.syncTimer.unref();
    }
    return log;
  }

  /** ID the next appended event gets. */
  get nextOffset(): number {
    return this.nextId;
  }

  /** ID of the oldest event kept. */
  get startOffset(): number {
    return this.segments[0]!.baseOffset;
  }

  get sizeBytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  /**
   * Appends one batch of `count` records. Synchronous up to the write, so concurrent
   * appenders are serialised by the event loop and get unique, contiguous IDs.
   */
  append(producerId: string, batchSeq: number, count: number, records: Uint8Array): AppendResult {
    if (this.closed) throw new Error("partition log is closed");
    const known = producerId ? this.producers.get(producerId)?.seqs.get(batchSeq) : undefined;
    if (known) return { firstEventId: known.first, count: known.count, duplicate: true, durable: this.durable() };
    const idBytes = Buffer.from(producerId, "utf8");
    if (idBytes.byteLength > MAX_PRODUCER_ID_BYTES) {
      throw new RangeError(`producerId is ${idBytes.byteLength} bytes; at most ${MAX_PRODUCER_ID_BYTES}`);
    }
    // Append times never go backwards, so a read by timestamp can binary-search.
    // Roll before writing, so a failure to open the next segment refuses this batch
    // instead of failing it after it was stored.
    if (this.active.size >= this.options.segmentBytes) this.roll();
    const timestampMs = Math.max(Date.now(), this.lastTimestamp);
    const first = this.nextId;
    const header = encodeFrameHeader(first, count, timestampMs, batchSeq, idBytes, records);
    this.active.append(header, records, first, count, timestampMs);
    this.nextId += count;
    this.lastTimestamp = timestampMs;
    this.dirty = true;
    if (producerId) this.remember(producerId, batchSeq, first, count);
    this.wakeReaders();
    return { firstEventId: first, count, duplicate: false, durable: this.durable() };
  }

  /**
   * Reads consecutive events from `offset`, up to about `maxBytes` (at least one batch).
   * Returns [] when `offset` is at the end of the log.
   */
  read(offset: number, maxBytes: number): ReadChunk[] {
    const out: ReadChunk[] = [];
    let at = Math.max(offset, this.startOffset);
    let bytes = 0;
    while (at < this.nextId && (out.length === 0 || bytes < maxBytes)) {
      const segment = this.segmentFor(at);
      const i = segment.batchFor(at);
      const { header, frame } = segment.readFrame(i);
      let records = frame.subarray(header.recordsAt, header.frameLength);
      const skip = at - header.baseOffset;
      if (skip > 0) records = records.subarray(recordOffset(records, skip));
      out.push({ firstEventId: at, count: header.count - skip, timestampMs: header.timestampMs, records });
      bytes += records.byteLength;
      at = header.baseOffset + header.count;
    }
    return out;
  }

  /** First offset whose append time is at or after `timestampMs` (nextOffset if none). */
  offsetForTime(timestampMs: number): number {
    for (const segment of this.segments) {
      const ts = segment.timestamps;
      if (ts.length === 0 || ts[ts.length - 1]! < timestampMs) continue;
      let lo = 0;
      let hi = ts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ts[mid]! >= timestampMs) hi = mid;
        else lo = mid + 1;
      }
      return segment.bases[lo]!;
    }
    return this.nextId;
  }

  /** Resolves when an event with ID >= `offset` exists, or the log closes. */
  waitFor(offset: number): Promise<void> {
    if (offset < this.nextId || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Syncs what is pending and closes the files. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    if (this.options.fsync !== "never") this.active.syncAll();
    for (const s of this.segments) s.close();
    this.wakeReaders();
  }

  private segmentFor(offset: number): Segment {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      if (this.segments[i]!.baseOffset <= offset) return this.segments[i]!;
    }
    return this.segments[0]!;
  }

  private roll(): void {
    this.active.syncAll();
    this.segments.push(Segment.create(this.dir, this.nextId));
  }

  private wakeReaders(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private remember(producerId: string, batchSeq: number, first: number, count: number): void {
    let window = this.producers.get(producerId);
    if (!window) {
      window = { seqs: new Map(), order: [] };
      this.producers.set(producerId, window);
    }
    window.seqs.set(batchSeq, { first, count });
    window.order.push(batchSeq);
    if (window.order.length > this.options.dedupeWindow) window.seqs.delete(window.order.shift()!);
  }

  /** Rebuilds the dedupe table from the newest batches on disk. */
  private recoverDedupe(fromActiveScan: RecoveredBatch[]): void {
    // Batches of closed segments are read header by header, newest first, up to a bound.
    const limit = this.options.dedupeWindow * 16;
    const older: RecoveredBatch[] = [];
    for (let s = this.segments.length - 2; s >= 0 && older.length < limit; s--) {
      const segment = this.segments[s]!;
      for (let i = segment.bases.length - 1; i >= 0 && older.length < limit; i--) {
        const h = segment.readHeader(i);
        if (h) older.push({ producerId: h.producerId, batchSeq: h.batchSeq, baseOffset: h.baseOffset, count: h.count });
      }
    }
    older.reverse();
    for (const b of [...older, ...fromActiveScan.filter((b) => b.baseOffset >= this.active.baseOffset)]) {
      if (b.producerId) this.remember(b.producerId, b.batchSeq, b.baseOffset, b.count);
    }
  }

  /** The promise an append waits on before its ack, per fsync policy. */
  private durable(): Promise<void> | undefined {
    if (this.options.fsync !== "always") return undefined;
    return this.groupSync();
  }

  /**
   * Group commit: batches appended while an fsync runs share the next one, so `always`
   * costs one fsync per round of concurrent batches, not one per batch.
   */
  private groupSync(): Promise<void> {
    if (this.syncQueued) return this.syncQueued;
    const run = (): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        this.dirty = false;
        fdatasync(this.active.fd, (err) => (err ? reject(err) : resolve()));
      });
    const start = (): Promise<void> => {
      const sync = run().finally(() => {
        if (this.syncInFlight === sync) this.syncInFlight = undefined;
      });
      this.syncInFlight = sync;
      return sync;
    };
    if (!this.syncInFlight) return start();
    // Whether the running fsync succeeds or fails, the queued one runs next on its own;
    // once it starts, later appends must queue behind it, not share it.
    const next = (): Promise<void> => {
      this.syncQueued = undefined;
      return start();
    };
    this.syncQueued = this.syncInFlight.then(next, next);
    return this.syncQueued;
  }

  private syncIfDirty(): void {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    fdatasync(this.active.fd, () => {});
  }
}
