/**
 * The append-only log of one partition: a directory of segments, IDs from 0 that are
 * never given out twice, a checksum per batch verified on every read, an fsync policy,
 * and a dedupe table that answers a re-sent (producerId, batchSeq) with its original IDs.
 *
 * Damage never stops a read silently or forever: a read reaching damaged or missing
 * events fails with CORRUPT, naming the range and the offset where reading can resume.
 */
import path from "node:path";
import { DedupeTable, type DedupeBounds } from "./dedupe-table.js";
import { BrokerFailure } from "./failures.js";
import { IdReservation } from "./id-reservation.js";
import { FSYNC_POLICIES, type FsyncPolicy } from "./limits.js";
import { decodeIndex, encodeFrameHeader, MAX_PRODUCER_ID_BYTES } from "./segment-format.js";
import { CorruptBatchError, Segment, SegmentStuckError, type Hole, type RecoveredBatch, type StorageContext } from "./segment.js";
import { recordOffset } from "../core/records.js";

export { FSYNC_POLICIES, type FsyncPolicy };

export interface PartitionLogOptions {
  fsync: FsyncPolicy;
  /** Period of the background fsync under `interval`. */
  fsyncIntervalMs: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  /** IDs reserved on disk ahead of the log under `interval` (id-reservation.ts). */
  idReservationBlock: number;
  dedupe: DedupeBounds;
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

export interface ReadResult {
  chunks: ReadChunk[];
  /** Where the next read continues: after the last chunk, or after gap frames passed over. */
  next: number;
}

const RESERVATION_FILE = "reserved-ids";

export class PartitionLog {
  private readonly segments: Segment[] = [];
  /** Ranges of IDs whose events are damaged or missing, ascending. */
  private holes: Hole[] = [];
  private readonly dedupe: DedupeTable;
  private reservation: IdReservation | undefined;
  private nextId = 0;
  private lastTimestamp = 0;
  private readonly waiters = new Set<() => void>();
  private syncTimer: NodeJS.Timeout | undefined;
  private dirty = false;
  private syncInFlight: Promise<void> | undefined;
  private syncQueued: Promise<void> | undefined;
  /** Set when a write or an fsync failed: the log refuses appends until a restart. */
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    private readonly ctx: StorageContext,
    readonly dir: string,
    /** Names the partition in messages, e.g. "topic 't' partition 0". */
    readonly label: string,
    private readonly options: PartitionLogOptions,
  ) {
    this.dedupe = new DedupeTable(options.dedupe);
  }

  /** Opens (or creates) the log in `dir`, recovering from a torn tail and reporting damage. */
  static open(ctx: StorageContext, dir: string, label: string, options: PartitionLogOptions): PartitionLog {
    const log = new PartitionLog(ctx, dir, label, options);
    try {
      log.recover();
    } catch (err) {
      log.closeFiles();
      throw err;
    }
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

  /** Follow reads waiting for new events (a cancelled read must not stay here). */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Producer IDs the dedupe table remembers. */
  get producerCount(): number {
    return this.dedupe.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  /**
   * Appends one batch of `count` records. Synchronous up to the write, so concurrent
   * appenders are serialised by the event loop and get unique, contiguous IDs.
   */
  append(producerId: string, batchSeq: number, count: number, records: Uint8Array): AppendResult {
    this.checkWritable();
    const now = Date.now();
    const known = producerId ? this.dedupe.lookup(producerId, batchSeq, now) : undefined;
    if (known) return { firstEventId: known.first, count: known.count, duplicate: true, durable: this.durableUpTo(known.first + known.count) };
    const idBytes = Buffer.from(producerId, "utf8");
    if (idBytes.byteLength > MAX_PRODUCER_ID_BYTES) {
      throw new RangeError(`producerId is ${idBytes.byteLength} bytes; at most ${MAX_PRODUCER_ID_BYTES}`);
    }
    // Roll before writing, so a failure to open the next segment refuses this batch
    // instead of failing it after it was stored.
    if (this.active.size >= this.options.segmentBytes) this.roll();
    // Append times never go backwards, so a read by timestamp can binary-search.
    const timestampMs = Math.max(now, this.lastTimestamp);
    const first = this.nextId;
    const header = encodeFrameHeader(first, count, timestampMs, batchSeq, idBytes, records);
    this.guard(() => this.active.append(header, records, first, count, timestampMs));
    this.nextId += count;
    this.lastTimestamp = timestampMs;
    this.dirty = true;
    if (producerId) this.dedupe.remember(producerId, batchSeq, first, count, now);
    this.wakeReaders();
    return { firstEventId: first, count, duplicate: false, durable: this.durableUpTo(this.nextId) };
  }

  /**
   * Reads consecutive events from `offset`, up to about `maxBytes` (at least one batch).
   * Returns no chunks when `offset` is at the end of the log. Every step moves forward by
   * at least one ID, so a read always ends; gap frames are passed over. Damage throws a
   * CORRUPT BrokerFailure, but only once the intact events before it were returned.
   */
  read(offset: number, maxBytes: number): ReadResult {
    const out: ReadChunk[] = [];
    let at = Math.max(offset, this.startOffset);
    let bytes = 0;
    while (at < this.nextId && (out.length === 0 || bytes < maxBytes)) {
      const hole = this.holeAt(at);
      const segment = this.segmentFor(at);
      const i = hole ? -1 : segment.batchFor(at);
      let frame;
      try {
        if (hole || i < 0) throw new CorruptBatchError(hole ?? { from: at, to: at + 1 }, `${this.label}: no stored batch holds event ${at}`);
        frame = segment.readFrame(i);
      } catch (err) {
        if (!(err instanceof CorruptBatchError)) throw err;
        if (out.length > 0) break;
        throw new BrokerFailure(
          "CORRUPT",
          `${this.label}: events ${err.hole.from} to ${err.hole.to - 1} are damaged or missing (${err.message}); a read can resume at offset ${err.hole.to}`,
        );
      }
      const { header } = frame;
      const end = header.baseOffset + header.count;
      if (!header.gap) {
        let records = frame.frame.subarray(header.recordsAt, header.frameLength);
        const skip = at - header.baseOffset;
        if (skip > 0) records = records.subarray(recordOffset(records, skip));
        out.push({ firstEventId: at, count: end - at, timestampMs: header.timestampMs, records });
        bytes += records.byteLength;
      }
      at = end;
    }
    return { chunks: out, next: at };
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

  /**
   * Resolves when an event with ID >= `offset` exists, the log closes, or `signal`
   * aborts; an aborted wait leaves nothing behind.
   */
  waitFor(offset: number, signal?: AbortSignal): Promise<void> {
    if (offset < this.nextId || this.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.waiters.delete(wake);
        signal?.removeEventListener("abort", wake);
        resolve();
      };
      this.waiters.add(wake);
      signal?.addEventListener("abort", wake, { once: true });
    });
  }

  /** Syncs what is pending and closes the files. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    if (!this.failure) {
      try {
        if (this.options.fsync !== "never") this.active.syncAll();
        // Everything is on disk: the ceiling can come down to the log's end, so the next
        // start after a reboot finds nothing to skip.
        this.reservation?.setNow(this.nextId);
      } catch (err) {
        this.ctx.logger.warn(`${this.label}: final sync at close failed: ${(err as Error).message}`);
      }
    }
    this.closeFiles();
    this.wakeReaders();
  }

  private closeFiles(): void {
    for (const s of this.segments) {
      try {
        s.close();
      } catch {
        // closing the others matters more
      }
    }
  }

  private checkWritable(): void {
    if (this.closed) throw new Error("partition log is closed");
    if (this.failure) {
      throw new BrokerFailure(
        "STORAGE",
        `${this.label} refuses appends since a write or fsync failed (${this.failure.message}); restart the broker to recover from what is on disk`,
      );
    }
  }

  /** Stops appends for good: after a failed fsync the page cache may no longer match the disk. */
  private fail(err: Error): void {
    if (this.failure || this.closed) return;
    this.failure = err;
    this.ctx.logger.warn(`${this.label}: appends refused from now on: ${err.message}; restart the broker to recover from what is on disk`);
  }

  private guard<T>(write: () => T): T {
    try {
      return write();
    } catch (err) {
      if (err instanceof SegmentStuckError) this.fail(err);
      throw err;
    }
  }

  private holeAt(offset: number): Hole | undefined {
    for (const hole of this.holes) {
      if (offset < hole.from) return undefined;
      if (offset < hole.to) return hole;
    }
    return undefined;
  }

  private segmentFor(offset: number): Segment {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.segments[lo]!;
  }

  private roll(): void {
    // Create the next segment first: if that fails, the current one stays active.
    const next = this.guard(() => Segment.create(this.ctx, this.dir, this.label, this.nextId));
    try {
      this.active.seal();
    } catch (err) {
      next.close();
      this.fail(err as Error);
      throw err;
    }
    this.segments.push(next);
  }

  private wakeReaders(): void {
    if (this.waiters.size === 0) return;
    for (const wake of [...this.waiters]) wake();
  }

  /** The promise an append waits on before its ack, per fsync policy. */
  private durableUpTo(end: number): Promise<void> | undefined {
    const pending = this.options.fsync === "always" ? this.groupSync() : this.reservation?.cover(end);
    return pending?.catch((err: Error) => {
      this.fail(err);
      throw err;
    });
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
        this.active.datasync((err) => (err ? reject(err) : resolve()));
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
    if (!this.dirty || this.closed || this.failure) return;
    this.dirty = false;
    this.active.datasync((err) => {
      if (err) this.fail(err);
    });
  }

  /** Opens the segments, finds damage and missing files, skips IDs lost with the power. */
  private recover(): void {
    const { io, logger } = this.ctx;
    io.mkdir(this.dir);
    const basesOf = (ext: string): number[] =>
      io
        .readdir(this.dir)
        .filter((f) => f.length === 24 && f.endsWith(ext) && /^\d{20}$/.test(f.slice(0, 20)))
        .map((f) => Number(f.slice(0, 20)))
        .sort((a, b) => a - b);
    // Empty segments stay: a segment's base is a floor for the IDs still to come.
    const bases = basesOf(".log");
    const lastBase = bases.length > 0 ? bases[bases.length - 1]! : -1;
    // An index whose segment file is gone still says which IDs that segment held: past
    // the last segment, those IDs must not be given out again.
    let orphanEnd = 0;
    for (const base of basesOf(".idx")) {
      if (bases.includes(base)) continue;
      const entries = decodeIndex(io.readFile(path.join(this.dir, `${String(base).padStart(20, "0")}.idx`)));
      const last = entries?.[entries.length - 1];
      const end = last ? last.baseOffset + last.count : base;
      logger.warn(`${this.label}: segment file for events from ${base} is missing (its index remains); events ${base} to ${end - 1} are lost`);
      if (base > lastBase) orphanEnd = Math.max(orphanEnd, end);
    }
    const recovered: RecoveredBatch[] = [];
    bases.forEach((base, i) => this.segments.push(Segment.open(this.ctx, this.dir, this.label, base, i === bases.length - 1, recovered)));
    if (this.segments.length === 0) this.segments.push(Segment.create(this.ctx, this.dir, this.label, orphanEnd));
    this.nextId = this.active.nextOffset;
    if (orphanEnd > this.nextId) {
      this.nextId = orphanEnd;
      this.roll();
    }
    this.findHoles();
    this.lastTimestamp = Math.max(0, ...this.segments.map((s) => s.timestamps[s.timestamps.length - 1] ?? 0));
    this.skipIdsLostWithThePower();
    this.recoverDedupe(recovered);
  }

  private findHoles(): void {
    const holes: Hole[] = [];
    this.segments.forEach((segment, i) => {
      holes.push(...segment.holes);
      const next = this.segments[i + 1];
      if (next && segment.nextOffset < next.baseOffset) {
        holes.push({ from: segment.nextOffset, to: next.baseOffset });
        this.ctx.logger.warn(
          `${this.label}: events ${segment.nextOffset} to ${next.baseOffset - 1} are missing between segments ` +
            `(a segment file was deleted or cut); reads there fail with CORRUPT`,
        );
      }
    });
    this.holes = holes.sort((a, b) => a.from - b.from);
  }

  /**
   * After a reboot, IDs up to the reserved ceiling may have been acknowledged in batches
   * the power took: a gap frame makes the log continue after them (id-reservation.ts).
   */
  private skipIdsLostWithThePower(): void {
    const { io, logger } = this.ctx;
    const file = path.join(this.dir, RESERVATION_FILE);
    const stored = IdReservation.read(io, file);
    if (!stored && io.exists(file) && io.readFile(file).byteLength > 0) {
      logger.warn(`${this.label}: the ID reservation ${file} is unreadable; after a power loss IDs acknowledged under fsync interval could be given out again`);
    }
    const bootId = io.bootId();
    if (stored && stored.ceiling > this.nextId && (stored.bootId === undefined || stored.bootId !== bootId)) {
      const lost = stored.ceiling - this.nextId;
      logger.warn(
        `${this.label}: the machine restarted without a clean shutdown; events ${this.nextId} to ${stored.ceiling - 1} ` +
          `may have been acknowledged under fsync interval and lost; those IDs are skipped, never reused`,
      );
      this.active.appendGap(this.nextId, lost, Math.max(Date.now(), this.lastTimestamp));
      this.active.syncAll();
      this.nextId = stored.ceiling;
    }
    if (this.options.fsync === "interval") {
      this.reservation = IdReservation.open(io, this.dir, file, this.options.idReservationBlock, stored, (err) => this.fail(err));
    }
  }

  /** Rebuilds the dedupe table from the newest batches on disk. */
  private recoverDedupe(fromActiveScan: RecoveredBatch[]): void {
    // Batches of closed segments are read header by header, newest first, up to a bound.
    const limit = this.options.dedupe.window * 16;
    const older: RecoveredBatch[] = [];
    for (let s = this.segments.length - 2; s >= 0 && older.length < limit; s--) {
      const segment = this.segments[s]!;
      for (let i = segment.bases.length - 1; i >= 0 && older.length < limit; i--) {
        const h = segment.readHeader(i);
        if (h && !h.gap) older.push({ producerId: h.producerId, batchSeq: h.batchSeq, baseOffset: h.baseOffset, count: h.count, timestampMs: h.timestampMs });
      }
    }
    older.reverse();
    for (const b of [...older, ...fromActiveScan.filter((b) => b.baseOffset >= this.active.baseOffset)]) {
      if (b.producerId) this.dedupe.remember(b.producerId, b.batchSeq, b.baseOffset, b.count, b.timestampMs);
    }
  }
}
