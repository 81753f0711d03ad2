/**
 * The producer's write-ahead log, on the transport thread: every batch is written here
 * before (and while) it is sent, and marked done once the log acknowledged it, so that
 * neither a log outage nor a crash of the producing process loses an event whose
 * `durable()` resolved.
 *
 * Segments (`00000000000000000001.wal`, …) hold batch and done frames (wal-format.ts).
 * The oldest segments are deleted as soon as every batch in them is done; a new segment
 * starts past `segmentBytes`. Writes are synchronous positional writes on this thread
 * (page cache); what reaches the disk when is the fsync policy's business:
 *
 * - `always`: a batch is durable once an fdatasync that started after its write ended.
 *   Batches written while one fdatasync runs share the next one (group commit).
 * - `interval`: a batch is durable once written; the file is fdatasync'ed every
 *   `intervalMs`. It survives a crash of the process, and a power loss loses at most the
 *   last interval.
 * - `never`: durable once written; the OS writes it back when it likes.
 */
import fs from "node:fs";
import path from "node:path";
import { TributaryError } from "../../core/errors.js";
import { syncDir, writeMeta, type WalMeta } from "./wal-claim.js";
import { BATCH_HEADER_BYTES, encodeBatchHeader, encodeDone, FrameKind, readFrame, WAL_MAGIC, type WalRef } from "./wal-format.js";

export type WalFsync = "always" | "interval" | "never";

export interface WalOptions {
  dir: string;
  meta: WalMeta;
  fsync: WalFsync;
  intervalMs: number;
  segmentBytes: number;
  /** Where what recovery cuts is reported. */
  warn(message: string): void;
}

/** A batch the WAL holds and the log has not acknowledged. */
export interface WalBatch {
  partition: number;
  seq: number;
  count: number;
  ref: WalRef;
}

interface Segment {
  id: number;
  file: string;
  fd: number;
  size: number;
  /** Batch frames in it that are not done. */
  live: number;
}

const SEGMENT = /^(\d{20})\.wal$/;
const name = (id: number): string => `${String(id).padStart(20, "0")}.wal`;
const key = (partition: number, seq: number): number => partition * 2 ** 32 + seq;

export class WriteAheadLog {
  readonly #options: WalOptions;
  readonly #segments: Segment[] = [];
  /** Batches not done: where they are. */
  readonly #live = new Map<number, { segment: Segment; ref: WalRef; count: number }>();
  /** Per partition, the next unused sequence. */
  readonly #nextSeq = new Map<number, number>();
  #bytes = 0;
  #dirty = false;
  #syncing: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: WalOptions) {
    this.#options = options;
  }

  /**
   * Opens the WAL in `options.dir`: reads every segment, skips what is torn or corrupt
   * (reporting it), and returns the batches still to deliver, in the order written.
   */
  static open(options: WalOptions): { wal: WriteAheadLog; pending: WalBatch[] } {
    const wal = new WriteAheadLog(options);
    for (const [p, floor] of Object.entries(options.meta.seqFloor)) wal.#nextSeq.set(Number(p), floor);
    const ids = fs
      .readdirSync(options.dir)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((id): id is string => id !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const order: number[] = [];
    for (const id of ids) wal.#recover(id, order);
    if (wal.#segments.length === 0) wal.#roll(1);
    if (options.fsync === "interval") {
      wal.#timer = setInterval(() => wal.#syncIfDirty(), options.intervalMs);
      wal.#timer.unref();
    }
    const pending: WalBatch[] = [];
    for (const k of order) {
      const entry = wal.#live.get(k);
      if (entry) pending.push({ partition: Math.floor(k / 2 ** 32), seq: k % 2 ** 32, count: entry.count, ref: entry.ref });
    }
    wal.#trim();
    return { wal, pending };
  }

  /** Bytes of all segments. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The sequence the next batch of `partition` must take (higher than any this WAL used). */
  nextSeq(partition: number): number {
    return this.#nextSeq.get(partition) ?? 0;
  }

  /** Per partition this WAL has used, the sequence its next batch must take. */
  nextSeqs(): [partition: number, seq: number][] {
    return [...this.#nextSeq];
  }

  /** Batches written and not done. */
  get pending(): number {
    return this.#live.size;
  }

  /**
   * Writes one batch. Returns where its records lie.
   * @throws TributaryError WAL_IO when the write failed (nothing of it stays behind)
   */
  append(partition: number, seq: number, count: number, records: Uint8Array): WalRef {
    if (this.#closed) throw new TributaryError("the WAL is closed", { code: "WAL_IO" });
    let active = this.#active;
    if (active.size >= this.#options.segmentBytes && active.size > 0) active = this.#roll(active.id + 1);
    const header = encodeBatchHeader(partition, seq, count, records);
    const position = active.size;
    this.#write(active, [header, records]);
    const ref: WalRef = { segment: active.id, position: position + BATCH_HEADER_BYTES, length: records.byteLength };
    active.live++;
    this.#live.set(key(partition, seq), { segment: active, ref, count });
    if (seq >= this.nextSeq(partition)) this.#nextSeq.set(partition, seq + 1);
    this.#dirty = true;
    return ref;
  }

  /** Resolves once every batch appended before the call is as durable as the policy makes it. */
  sync(): Promise<void> {
    if (this.#options.fsync !== "always" || !this.#dirty) return this.#syncing ?? Promise.resolve();
    if (this.#queued) return this.#queued;
    if (!this.#syncing) return this.#startSync();
    // An fdatasync is running: the batches written since share the next one.
    const next = (): Promise<void> => {
      this.#queued = undefined;
      return this.#startSync();
    };
    this.#queued = this.#syncing.then(next, next);
    return this.#queued;
  }

  /**
   * Marks a batch done (acknowledged, or refused for good): it will not be replayed, and
   * the oldest segments go once nothing in them is live.
   */
  done(partition: number, seq: number): void {
    const k = key(partition, seq);
    const entry = this.#live.get(k);
    if (!entry || this.#closed) return;
    this.#live.delete(k);
    entry.segment.live--;
    // Not fsync'ed: if a crash loses it, the batch is replayed and the log's dedupe
    // answers it with its original IDs.
    try {
      this.#write(this.#active, [encodeDone(partition, seq)]);
    } catch (err) {
      this.#options.warn(`could not mark batch ${seq} of partition ${partition} done in the WAL (it will be re-sent and deduplicated): ${(err as Error).message}`);
    }
    this.#trim();
  }

  /** Reads the records of a batch back (a re-send after its bytes left memory). */
  read(ref: WalRef): Uint8Array {
    const segment = this.#segments.find((s) => s.id === ref.segment);
    if (!segment) throw new TributaryError(`WAL segment ${ref.segment} is gone`, { code: "WAL_IO" });
    const out = Buffer.allocUnsafe(ref.length);
    let read = 0;
    while (read < ref.length) {
      const n = fs.readSync(segment.fd, out, read, ref.length - read, ref.position + read);
      if (n === 0) throw new TributaryError(`WAL segment ${segment.file} ends before batch at ${ref.position}`, { code: "WAL_IO" });
      read += n;
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  /** Syncs and closes; an empty WAL leaves no segment behind. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#syncing?.catch(() => {});
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    const empty = this.#live.size === 0;
    if (empty) this.#saveFloor();
    for (const s of this.#segments) {
      if (this.#options.fsync !== "never" && !empty) fs.fdatasyncSync(s.fd);
      fs.closeSync(s.fd);
      if (empty) fs.rmSync(s.file, { force: true });
    }
    if (empty) this.#bytes = 0;
  }

  get #active(): Segment {
    return this.#segments[this.#segments.length - 1]!;
  }

  #write(segment: Segment, buffers: Uint8Array[]): void {
    const start = segment.size;
    const length = buffers.reduce((n, b) => n + b.byteLength, 0);
    try {
      let written = fs.writevSync(segment.fd, buffers, start);
      while (written < length) {
        const rest = Buffer.concat(buffers).subarray(written);
        written += fs.writeSync(segment.fd, rest, 0, rest.byteLength, start + written);
      }
    } catch (err) {
      try {
        fs.ftruncateSync(segment.fd, start);
      } catch {
        // the write error says more
      }
      throw new TributaryError(`cannot write the WAL ${segment.file}: ${(err as Error).message}`, { code: "WAL_IO", cause: err });
    }
    segment.size += length;
    this.#bytes += length;
  }

  #roll(id: number): Segment {
    const previous = this.#segments.at(-1);
    // What the old segment holds reaches the disk before later batches can (always).
    if (previous && this.#options.fsync === "always") fs.fdatasyncSync(previous.fd);
    const file = path.join(this.#options.dir, name(id));
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    if (this.#options.fsync !== "never") syncDir(this.#options.dir);
    const segment: Segment = { id, file, fd, size: 0, live: 0 };
    this.#segments.push(segment);
    return segment;
  }

  #startSync(): Promise<void> {
    const fd = this.#active.fd;
    this.#dirty = false;
    const sync = new Promise<void>((resolve, reject) =>
      fs.fdatasync(fd, (err) => (err ? reject(new TributaryError(`fdatasync of the WAL failed: ${err.message}`, { code: "WAL_IO", cause: err })) : resolve())),
    ).finally(() => {
      if (this.#syncing === sync) this.#syncing = undefined;
    });
    this.#syncing = sync;
    return sync;
  }

  #syncIfDirty(): void {
    if (!this.#dirty || this.#closed) return;
    this.#dirty = false;
    fs.fdatasync(this.#active.fd, () => {});
  }

  /** Deletes the oldest segments whose batches are all done (oldest first, so no done frame is lost before its batch). */
  #trim(): void {
    // Everything done and the active segment a good part full: start a fresh one, so the
    // space comes back now instead of when the segment would fill up.
    const active = this.#active;
    if (this.#live.size === 0 && active.size >= this.#options.segmentBytes / 4) this.#roll(active.id + 1);
    let drop = 0;
    while (drop < this.#segments.length - 1 && this.#segments[drop]!.live === 0) drop++;
    if (drop === 0) return;
    // The sequences these segments used must stay used: record them before they go.
    this.#saveFloor();
    for (const s of this.#segments.splice(0, drop)) {
      fs.closeSync(s.fd);
      fs.rmSync(s.file, { force: true });
      this.#bytes -= s.size;
    }
  }

  #saveFloor(): void {
    const floor: Record<string, number> = {};
    for (const [p, seq] of this.#nextSeq) floor[String(p)] = seq;
    this.#options.meta.seqFloor = floor;
    writeMeta(this.#options.dir, this.#options.meta);
  }

  /** Reads segment `id`, keeping its valid frames; order receives the batch keys as written. */
  #recover(id: number, order: number[]): void {
    const file = path.join(this.#options.dir, name(id));
    const buf = fs.readFileSync(file);
    const fd = fs.openSync(file, fs.constants.O_RDWR);
    const segment: Segment = { id, file, fd, size: 0, live: 0 };
    this.#segments.push(segment);
    let at = 0;
    let end = 0;
    while (at < buf.byteLength) {
      const frame = readFrame(buf, at);
      if (!frame) {
        const next = resync(buf, at + 1);
        this.#options.warn(
          next < 0
            ? `WAL ${file}: cut ${buf.byteLength - at} bytes after offset ${at} (a torn or corrupt tail)`
            : `WAL ${file}: skipped ${next - at} corrupt bytes at offset ${at}; frames after them are kept`,
        );
        if (next < 0) break;
        at = next;
        continue;
      }
      const k = key(frame.partition, frame.seq);
      if (frame.kind === FrameKind.Batch) {
        const ref: WalRef = { segment: id, position: frame.recordsAt, length: frame.recordsLength };
        if (!this.#live.has(k)) {
          this.#live.set(k, { segment, ref, count: frame.count });
          segment.live++;
          order.push(k);
        }
      } else {
        const entry = this.#live.get(k);
        if (entry) {
          this.#live.delete(k);
          entry.segment.live--;
        }
      }
      if (frame.seq >= this.nextSeq(frame.partition)) this.#nextSeq.set(frame.partition, frame.seq + 1);
      at += frame.frameLength;
      end = at;
    }
    if (end < buf.byteLength && resync(buf, end) < 0) {
      // Nothing valid after `end`: cut the tail so new frames follow the last good one.
      fs.ftruncateSync(fd, end);
      segment.size = end;
    } else segment.size = buf.byteLength;
    this.#bytes += segment.size;
  }
}

/** Offset of the next valid frame at or after `from`, or -1. */
function resync(buf: Buffer, from: number): number {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(WAL_MAGIC, 0);
  for (let at = buf.indexOf(magic, from); at >= 0; at = buf.indexOf(magic, at + 1)) {
    if (readFrame(buf, at)) return at;
  }
  return -1;
}
