/**
 * One segment file of a partition log and its batch index, kept in memory as parallel
 * arrays (one entry per batch) and mirrored to an index file beside the segment.
 */
import fs from "node:fs";
import path from "node:path";
import {
  FRAME_FIXED_BYTES,
  INDEX_ENTRY_BYTES,
  encodeIndexEntry,
  frameIsValid,
  readFrameHeader,
  segmentName,
  type FrameHeader,
} from "./segment-format.js";

/** A batch as recovered from disk, for rebuilding the dedupe table. */
export interface RecoveredBatch {
  producerId: string;
  batchSeq: number;
  baseOffset: number;
  count: number;
}

export class Segment {
  /** Base offset (event ID) of every batch, ascending. */
  readonly bases: number[] = [];
  readonly counts: number[] = [];
  readonly positions: number[] = [];
  readonly timestamps: number[] = [];
  size = 0;
  private constructor(
    readonly baseOffset: number,
    readonly logPath: string,
    readonly indexPath: string,
    readonly fd: number,
    private indexFd: number,
  ) {}

  static create(dir: string, baseOffset: number): Segment {
    const name = segmentName(baseOffset);
    const logPath = path.join(dir, `${name}.log`);
    const indexPath = path.join(dir, `${name}.idx`);
    // The log is written with positional writes (O_APPEND would ignore the position);
    // the index only ever grows at its end.
    const logFd = fs.openSync(logPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    return new Segment(baseOffset, logPath, indexPath, logFd, fs.openSync(indexPath, "a+"));
  }

  /**
   * Opens an existing segment. The active (last) segment is verified frame by frame and
   * its torn tail cut at the last valid checksum; a closed segment trusts its index when
   * the index agrees with the file, and is rescanned otherwise.
   */
  static open(dir: string, baseOffset: number, active: boolean, recovered: RecoveredBatch[]): Segment {
    const segment = Segment.create(dir, baseOffset);
    if (active || !segment.loadIndex()) segment.scan(recovered);
    return segment;
  }

  get nextOffset(): number {
    const n = this.bases.length;
    return n === 0 ? this.baseOffset : this.bases[n - 1]! + this.counts[n - 1]!;
  }

  /** Appends one frame (header + records) at the end of the file: one write per batch. */
  append(header: Buffer, records: Uint8Array, baseOffset: number, count: number, timestampMs: number): void {
    const position = this.size;
    const length = header.byteLength + records.byteLength;
    try {
      let written = fs.writevSync(this.fd, [header, records], position);
      // writev may write partially on some file systems; finish the frame before acking.
      while (written < length) {
        const rest = Buffer.concat([header, records]).subarray(written);
        written += fs.writeSync(this.fd, rest, 0, rest.byteLength, position + written);
      }
      fs.writeSync(this.indexFd, encodeIndexEntry(baseOffset, count, position, timestampMs));
    } catch (err) {
      // Nothing of a refused batch may stay behind: the next batch reuses its offsets.
      try {
        fs.ftruncateSync(this.fd, position);
      } catch {
        // the original error says more
      }
      throw err;
    }
    this.size += length;
    this.bases.push(baseOffset);
    this.counts.push(count);
    this.positions.push(position);
    this.timestamps.push(timestampMs);
  }

  /** Index of the batch holding `offset` (which must lie in this segment). */
  batchFor(offset: number): number {
    let lo = 0;
    let hi = this.bases.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.bases[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Reads the whole frame of batch `i`. */
  readFrame(i: number): { header: FrameHeader; frame: Buffer } {
    const start = this.positions[i]!;
    const end = i + 1 < this.positions.length ? this.positions[i + 1]! : this.size;
    const frame = Buffer.allocUnsafe(end - start);
    fs.readSync(this.fd, frame, 0, frame.byteLength, start);
    const header = readFrameHeader(frame, 0);
    if (!header) throw new Error(`corrupt frame at ${this.logPath}:${start}`);
    return { header, frame };
  }

  /** Reads only the header of batch `i` (dedupe recovery of closed segments). */
  readHeader(i: number): FrameHeader | undefined {
    const head = Buffer.allocUnsafe(FRAME_FIXED_BYTES + 255);
    const n = fs.readSync(this.fd, head, 0, head.byteLength, this.positions[i]!);
    return readFrameHeader(head.subarray(0, n), 0);
  }

  sync(): void {
    fs.fdatasyncSync(this.fd);
  }

  /** Flushes data and index to disk (on roll and close). */
  syncAll(): void {
    fs.fdatasyncSync(this.fd);
    fs.fdatasyncSync(this.indexFd);
  }

  close(): void {
    fs.closeSync(this.fd);
    fs.closeSync(this.indexFd);
  }

  private pushEntry(base: number, count: number, position: number, ts: number): void {
    this.bases.push(base);
    this.counts.push(count);
    this.positions.push(position);
    this.timestamps.push(ts);
  }

  /** Loads the index file; false when it does not describe the segment file exactly. */
  private loadIndex(): boolean {
    const fileSize = fs.fstatSync(this.fd).size;
    const index = fs.readFileSync(this.indexPath);
    if (index.byteLength % INDEX_ENTRY_BYTES !== 0) return false;
    for (let at = 0; at < index.byteLength; at += INDEX_ENTRY_BYTES) {
      this.pushEntry(index.readDoubleLE(at), index.readDoubleLE(at + 8), index.readDoubleLE(at + 16), index.readDoubleLE(at + 24));
    }
    this.size = fileSize;
    const last = this.bases.length - 1;
    const header = last >= 0 ? this.readHeader(last) : undefined;
    const consistent =
      (last < 0 && fileSize === 0) ||
      (header !== undefined && header.baseOffset === this.bases[last] && this.positions[last]! + header.frameLength === fileSize);
    if (!consistent) {
      this.bases.length = this.counts.length = this.positions.length = this.timestamps.length = 0;
    }
    return consistent;
  }

  /** Verifies every frame, cuts the file after the last valid one, rewrites the index. */
  private scan(recovered: RecoveredBatch[]): void {
    this.bases.length = this.counts.length = this.positions.length = this.timestamps.length = 0;
    const buf = fs.readFileSync(this.logPath);
    let at = 0;
    let expectedBase = this.baseOffset;
    const entries: Buffer[] = [];
    while (at < buf.byteLength) {
      const header = readFrameHeader(buf, at);
      if (!header || header.baseOffset !== expectedBase || !frameIsValid(buf, at, header)) break;
      this.pushEntry(header.baseOffset, header.count, at, header.timestampMs);
      entries.push(encodeIndexEntry(header.baseOffset, header.count, at, header.timestampMs));
      recovered.push({ producerId: header.producerId, batchSeq: header.batchSeq, baseOffset: header.baseOffset, count: header.count });
      expectedBase += header.count;
      at += header.frameLength;
    }
    if (at < buf.byteLength) fs.ftruncateSync(this.fd, at);
    this.size = at;
    fs.ftruncateSync(this.indexFd, 0);
    if (entries.length > 0) fs.writeSync(this.indexFd, Buffer.concat(entries), 0, undefined, 0);
    this.syncAll();
  }
}
