/**
 * One segment file of a partition log and its batch index, kept in memory as parallel
 * arrays (one entry per frame) and mirrored to an index file beside the segment.
 *
 * Only the active (last) segment holds file descriptors, for appending. A closed
 * segment is read through the shared FdCache, so a long log costs no descriptors.
 */
import fs from "node:fs";
import path from "node:path";
import type { FdCache } from "./fd-cache.js";
import type { BrokerLogger } from "./logger.js";
import {
  FRAME_FIXED_BYTES,
  INDEX_ENTRY_BYTES,
  decodeIndex,
  encodeGapFrame,
  encodeIndexEntry,
  findNextFrame,
  frameIsValid,
  readFrameHeader,
  segmentName,
  type FrameHeader,
  type IndexEntry,
} from "./segment-format.js";
import { writeFully, type StorageIO } from "./storage-io.js";

/** What a partition's segments share: the file system, the read descriptors, the log. */
export interface StorageContext {
  io: StorageIO;
  fds: FdCache;
  logger: BrokerLogger;
  /** False under fsync `never`: nothing is forced to disk, not even directory entries. */
  durable: boolean;
}

/** A batch as recovered from disk, for rebuilding the dedupe table. */
export interface RecoveredBatch {
  producerId: string;
  batchSeq: number;
  baseOffset: number;
  count: number;
  timestampMs: number;
}

/** A range of event IDs whose data is missing or damaged. */
export interface Hole {
  from: number;
  /** Exclusive. */
  to: number;
}

/** A stored batch failed its checksum or does not match the index: never served. */
export class CorruptBatchError extends Error {
  constructor(readonly hole: Hole, message: string) {
    super(message);
  }
}

/** A failed append could not be undone: the segment's state on disk is unknown. */
export class SegmentStuckError extends Error {}

interface Writer {
  fd: number;
  indexFd: number;
  indexSize: number;
}

const { O_RDWR, O_CREAT, O_TRUNC } = fs.constants;

export class Segment {
  /** Base offset (event ID) of every frame, ascending. */
  readonly bases: number[] = [];
  readonly counts: number[] = [];
  readonly positions: number[] = [];
  readonly timestamps: number[] = [];
  /** Ranges inside this segment whose frames were damaged (found by a scan or the index). */
  holes: Hole[] = [];
  size = 0;
  private writer: Writer | undefined;
  /** Set once a newer segment took over; the descriptors close when no fsync still runs. */
  private sealed = false;
  private syncsInFlight = 0;

  private constructor(
    private readonly ctx: StorageContext,
    /** Names the partition in log lines, e.g. "topic 't' partition 0". */
    private readonly label: string,
    readonly baseOffset: number,
    readonly logPath: string,
    readonly indexPath: string,
  ) {}

  /** Starts a new, empty active segment at `baseOffset`. */
  static create(ctx: StorageContext, dir: string, label: string, baseOffset: number): Segment {
    const segment = Segment.at(ctx, dir, label, baseOffset);
    const { io } = ctx;
    let fd: number | undefined;
    let indexFd: number | undefined;
    try {
      fd = io.open(segment.logPath, O_RDWR | O_CREAT | O_TRUNC);
      indexFd = io.open(segment.indexPath, O_RDWR | O_CREAT | O_TRUNC);
      // The new files' directory entries must survive a power loss like their content.
      if (ctx.durable) io.syncDir(dir);
    } catch (err) {
      // Leave nothing behind: a stray empty segment would claim IDs at the next start.
      if (fd !== undefined) io.close(fd);
      if (indexFd !== undefined) io.close(indexFd);
      try {
        io.remove(segment.logPath);
        io.remove(segment.indexPath);
      } catch {
        // the original error says more
      }
      throw err;
    }
    segment.writer = { fd, indexFd, indexSize: 0 };
    return segment;
  }

  /**
   * Opens an existing segment. The active (last) one is verified frame by frame: damage
   * in the middle is stepped over (and reported), a torn tail is cut. A closed one trusts
   * its index when the index is intact and agrees with the file, and is rescanned otherwise.
   */
  static open(ctx: StorageContext, dir: string, label: string, baseOffset: number, active: boolean, recovered: RecoveredBatch[]): Segment {
    const segment = Segment.at(ctx, dir, label, baseOffset);
    if (active) {
      const fd = ctx.io.open(segment.logPath, O_RDWR);
      let indexFd: number | undefined;
      try {
        indexFd = ctx.io.open(segment.indexPath, O_RDWR | O_CREAT);
        segment.scan(fd, indexFd, recovered);
        segment.writer = { fd, indexFd, indexSize: segment.bases.length * INDEX_ENTRY_BYTES };
      } catch (err) {
        ctx.io.close(fd);
        if (indexFd !== undefined) ctx.io.close(indexFd);
        throw err;
      }
    } else if (!segment.loadIndex()) {
      ctx.logger.info(`${label}: index of ${segment.logPath} is missing, damaged or of an older format; rebuilt from the segment`);
      const fd = ctx.io.open(segment.logPath, O_RDWR);
      try {
        const indexFd = ctx.io.open(segment.indexPath, O_RDWR | O_CREAT);
        try {
          segment.scan(fd, indexFd, recovered);
        } finally {
          ctx.io.close(indexFd);
        }
      } finally {
        ctx.io.close(fd);
      }
    }
    return segment;
  }

  private static at(ctx: StorageContext, dir: string, label: string, baseOffset: number): Segment {
    const name = segmentName(baseOffset);
    return new Segment(ctx, label, baseOffset, path.join(dir, `${name}.log`), path.join(dir, `${name}.idx`));
  }

  get nextOffset(): number {
    const n = this.bases.length;
    return n === 0 ? this.baseOffset : this.bases[n - 1]! + this.counts[n - 1]!;
  }

  get isActive(): boolean {
    return this.writer !== undefined && !this.sealed;
  }

  /** Appends one frame (header + records) at the end of the file: one write per batch. */
  append(header: Buffer, records: Uint8Array, baseOffset: number, count: number, timestampMs: number): void {
    const w = this.writer;
    if (!w || this.sealed) throw new Error(`segment ${this.logPath} is closed for appends`);
    const position = this.size;
    const entry = encodeIndexEntry(baseOffset, count, position, timestampMs);
    try {
      writeFully(this.ctx.io, w.fd, [header, records], position);
      writeFully(this.ctx.io, w.indexFd, [entry], w.indexSize);
    } catch (err) {
      // Nothing of a refused batch may stay behind: the next batch reuses its IDs and
      // its place in both files. If even that fails, the files are in an unknown state.
      try {
        this.ctx.io.truncate(w.fd, position);
        this.ctx.io.truncate(w.indexFd, w.indexSize);
      } catch (cleanup) {
        throw new SegmentStuckError(`${(err as Error).message}; undoing the partial write failed too: ${(cleanup as Error).message}`);
      }
      throw err;
    }
    this.size += header.byteLength + records.byteLength;
    w.indexSize += INDEX_ENTRY_BYTES;
    this.pushEntry(baseOffset, count, position, timestampMs);
  }

  /** Appends a gap frame: `count` IDs from `baseOffset` that hold no events. */
  appendGap(baseOffset: number, count: number, timestampMs: number): void {
    this.append(encodeGapFrame(baseOffset, count, timestampMs), new Uint8Array(0), baseOffset, count, timestampMs);
  }

  /** Index of the frame holding `offset`, or -1 when no frame of this segment holds it. */
  batchFor(offset: number): number {
    let lo = 0;
    let hi = this.bases.length - 1;
    if (hi < 0 || offset < this.bases[0]!) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.bases[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return offset < this.bases[lo]! + this.counts[lo]! ? lo : -1;
  }

  /**
   * Reads frame `i` whole and verifies it (header against the index, crc over the
   * frame): one crc32 over bytes already in memory. Throws CorruptBatchError.
   */
  readFrame(i: number): { header: FrameHeader; frame: Buffer } {
    const start = this.positions[i]!;
    const end = i + 1 < this.positions.length ? this.positions[i + 1]! : this.size;
    const frame = Buffer.allocUnsafe(end - start);
    const n = this.readAt(frame, start);
    const header = readFrameHeader(frame.subarray(0, n), 0);
    const base = this.bases[i]!;
    const hole = { from: base, to: base + this.counts[i]! };
    if (!header || header.baseOffset !== base || header.count !== this.counts[i] || header.frameLength > n || !frameIsValid(frame, 0, header)) {
      throw new CorruptBatchError(
        hole,
        `${this.label}: the batch of events ${hole.from} to ${hole.to - 1} (${this.logPath} at byte ${start}) fails its checksum or does not match the index`,
      );
    }
    return { header, frame };
  }

  /** Reads only the header of frame `i` (dedupe recovery of closed segments). */
  readHeader(i: number): FrameHeader | undefined {
    const head = Buffer.allocUnsafe(FRAME_FIXED_BYTES + 255);
    const n = this.readAt(head, this.positions[i]!);
    return readFrameHeader(head.subarray(0, n), 0);
  }

  /** fdatasync of the segment file on the thread pool (group commit, interval). */
  datasync(callback: (err: Error | null) => void): void {
    if (!this.writer) return callback(null);
    this.syncsInFlight++;
    this.ctx.io.datasync(this.writer.fd, (err) => {
      // Closing the descriptor under a running fdatasync could let a new file reuse its number.
      if (--this.syncsInFlight === 0 && this.sealed) this.closeWriter();
      callback(err);
    });
  }

  /** Flushes data and index to disk, blocking (on roll and close). */
  syncAll(): void {
    if (!this.writer || !this.ctx.durable) return;
    this.ctx.io.datasyncNow(this.writer.fd);
    this.ctx.io.datasyncNow(this.writer.indexFd);
  }

  /** Ends appends to this segment (a newer one took over): synced, descriptors closed. */
  seal(): void {
    this.syncAll();
    this.sealed = true;
    if (this.syncsInFlight === 0) this.closeWriter();
  }

  close(): void {
    this.closeWriter();
    this.ctx.fds.drop(this.logPath);
  }

  private closeWriter(): void {
    const w = this.writer;
    if (!w) return;
    this.writer = undefined;
    this.ctx.io.close(w.fd);
    this.ctx.io.close(w.indexFd);
  }

  private readAt(buffer: Buffer, position: number): number {
    return this.writer ? this.ctx.io.read(this.writer.fd, buffer, position) : this.ctx.fds.read(this.logPath, buffer, position);
  }

  private pushEntry(base: number, count: number, position: number, ts: number): void {
    this.bases.push(base);
    this.counts.push(count);
    this.positions.push(position);
    this.timestamps.push(ts);
  }

  private clearEntries(): void {
    this.bases.length = this.counts.length = this.positions.length = this.timestamps.length = 0;
  }

  /** Holes are where consecutive entries do not meet: frames a scan found damaged. */
  private findHoles(): void {
    this.holes = [];
    let expected = this.baseOffset;
    for (let i = 0; i < this.bases.length; i++) {
      if (this.bases[i]! > expected) this.holes.push({ from: expected, to: this.bases[i]! });
      expected = this.bases[i]! + this.counts[i]!;
    }
  }

  /** Loads the index file; false when it is not intact or does not describe the segment file. */
  private loadIndex(): boolean {
    if (!this.ctx.io.exists(this.indexPath)) return false;
    const entries = decodeIndex(this.ctx.io.readFile(this.indexPath));
    if (!entries || !this.entriesAreOrdered(entries)) return false;
    for (const e of entries) this.pushEntry(e.baseOffset, e.count, e.position, e.timestampMs);
    const fd = this.ctx.io.open(this.logPath, fs.constants.O_RDONLY);
    try {
      this.size = this.ctx.io.size(fd);
    } finally {
      this.ctx.io.close(fd);
    }
    const last = this.bases.length - 1;
    const header = last >= 0 ? this.readHeader(last) : undefined;
    const consistent =
      (last < 0 && this.size === 0) ||
      (header !== undefined && header.baseOffset === this.bases[last] && this.positions[last]! + header.frameLength === this.size);
    if (!consistent) this.clearEntries();
    else this.findHoles();
    return consistent;
  }

  private entriesAreOrdered(entries: IndexEntry[]): boolean {
    let base = this.baseOffset;
    let position = 0;
    let ts = -Infinity;
    for (const e of entries) {
      if (!Number.isSafeInteger(e.count) || e.count < 1 || !Number.isSafeInteger(e.baseOffset) || e.baseOffset < base) return false;
      if (!Number.isSafeInteger(e.position) || e.position < position || !(e.timestampMs >= ts)) return false;
      base = e.baseOffset + e.count;
      position = e.position + FRAME_FIXED_BYTES;
      ts = e.timestampMs;
    }
    return true;
  }

  /**
   * Verifies every frame and rewrites the index from the valid ones. A damaged frame
   * with valid frames after it is stepped over (its IDs become a hole that reads report
   * as CORRUPT); bytes after the last valid frame are cut. Both are logged.
   */
  private scan(fd: number, indexFd: number, recovered: RecoveredBatch[]): void {
    const { io, logger } = this.ctx;
    this.clearEntries();
    const buf = io.readFile(this.logPath);
    let at = 0;
    let expected = this.baseOffset;
    const entries: Buffer[] = [];
    while (at < buf.byteLength) {
      const header = readFrameHeader(buf, at);
      if (header && header.baseOffset === expected && frameIsValid(buf, at, header)) {
        this.pushEntry(header.baseOffset, header.count, at, header.timestampMs);
        entries.push(encodeIndexEntry(header.baseOffset, header.count, at, header.timestampMs));
        if (!header.gap) recovered.push({ producerId: header.producerId, batchSeq: header.batchSeq, baseOffset: header.baseOffset, count: header.count, timestampMs: header.timestampMs });
        expected += header.count;
        at += header.frameLength;
        continue;
      }
      const next = findNextFrame(buf, at + 1, expected);
      if (!next) break;
      logger.warn(
        `${this.label}: ${next.at - at} damaged bytes at ${this.logPath}:${at}; events ${expected} to ${next.header.baseOffset - 1} are lost ` +
          `(reads there fail with CORRUPT); the valid batches after them are kept`,
      );
      at = next.at;
      expected = next.header.baseOffset;
    }
    if (at < buf.byteLength) {
      logger.warn(
        `${this.label}: cut ${buf.byteLength - at} bytes from the end of ${this.logPath} (from byte ${at}): ` +
          `not a whole, valid batch (a torn write or damage); the partition continues at event ${expected}`,
      );
      io.truncate(fd, at);
    }
    this.size = at;
    this.findHoles();
    io.truncate(indexFd, 0);
    if (entries.length > 0) writeFully(io, indexFd, entries, 0);
    if (this.ctx.durable) {
      io.datasyncNow(fd);
      io.datasyncNow(indexFd);
    }
  }
}
