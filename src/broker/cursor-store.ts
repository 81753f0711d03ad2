/**
 * Consumer cursors of one topic, with fencing: per (consumer name, partition) the next
 * offset to read and a generation. An instance claims the cursor when it starts
 * (FetchCursor with `claim`), which bumps the generation; its commits carry it, and a
 * commit with an older generation (an instance that a newer one replaced) is FENCED.
 * The generation is per partition, so instances sharing a name over disjoint partitions
 * do not fence each other.
 *
 * Storage is an append-only log, `cursors.log`, of records
 * [u32 payload length][u32 crc32 of payload][JSON {c, p, o, g}]; a commit appends one
 * record, commits arriving together share one write and one fdatasync on the thread
 * pool. The log is rewritten (atomically) once it is several times larger than the
 * live cursors. A damaged tail is cut at start, and said so: cursors then fall back to
 * older values, so consumers re-read rather than skip.
 */
import fs from "node:fs";
import path from "node:path";
import { crc32 } from "node:zlib";
import { writeFileAtomic } from "./atomic-file.js";
import { BrokerFailure, quotaExceeded } from "./failures.js";
import { STORAGE_DEFAULTS } from "./limits.js";
import type { StorageContext } from "./segment.js";

const LOG_FILE = "cursors.log";
/** Format of tributary 0.1: one JSON object rewritten whole per commit; imported once. */
const LEGACY_FILE = "cursors.json";
const RECORD_HEADER_BYTES = 8;

export interface CursorState {
  /** Next offset to read; undefined when only claimed. */
  offset: number | undefined;
  generation: number;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export class CursorStore {
  /** consumer name → partition → state. Maps, never plain objects: names are untrusted. */
  private readonly cursors = new Map<string, Map<number, CursorState>>();
  private readonly file: string;
  private fileSize = 0;
  private liveBytes = 0;
  private pending: Buffer[] = [];
  private waiters: Waiter[] = [];
  private flushing = false;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly ctx: StorageContext,
    dir: string,
    private readonly label: string,
    private readonly maxConsumers: number,
  ) {
    this.file = path.join(dir, LOG_FILE);
    if (ctx.io.exists(this.file)) this.load();
    else this.importLegacy(path.join(dir, LEGACY_FILE));
  }

  fetch(consumer: string, partition: number): CursorState | undefined {
    return this.cursors.get(consumer)?.get(partition);
  }

  /** Bumps the generation of (consumer, partition); resolves once that is durable. */
  async claim(consumer: string, partition: number): Promise<CursorState> {
    const current = this.state(consumer, partition);
    const next = { offset: current?.offset, generation: (current?.generation ?? 0) + 1 };
    await this.store(consumer, partition, next);
    return next;
  }

  /**
   * Stores `offset` as the cursor. A commit without a generation (0) is accepted while
   * the cursor was never claimed; once claimed, only the current generation may commit.
   */
  commit(consumer: string, partition: number, offset: number, generation: number): Promise<void> {
    const current = this.state(consumer, partition);
    const now = current?.generation ?? 0;
    if (generation !== now) {
      const who = `consumer '${consumer.slice(0, 60)}' partition ${partition}`;
      let why: string;
      if (generation === 0) why = `${who} was claimed (generation ${now}): a commit must carry its generation`;
      else if (generation < now) why = `${who}: generation ${generation} was replaced by generation ${now} (a newer instance claimed the cursor)`;
      else why = `${who}: generation ${generation} was never issued (the current one is ${now})`;
      return Promise.reject(new BrokerFailure("FENCED", why));
    }
    return this.store(consumer, partition, { offset, generation });
  }

  /** Consumer names with a stored cursor. */
  get consumerCount(): number {
    return this.cursors.size;
  }

  close(): void {
    this.closed = true;
    if (this.pending.length > 0 && !this.flushing) this.flush();
  }

  private state(consumer: string, partition: number): CursorState | undefined {
    const states = this.cursors.get(consumer);
    if (!states && this.cursors.size >= this.maxConsumers) {
      throw quotaExceeded("maxConsumersPerTopic", this.maxConsumers, `${this.label} has cursors of ${this.cursors.size} consumers`);
    }
    return states?.get(partition);
  }

  private store(consumer: string, partition: number, state: CursorState): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerFailure("UNAVAILABLE", `${this.label} is closing`));
    let states = this.cursors.get(consumer);
    if (!states) this.cursors.set(consumer, (states = new Map()));
    const record = encodeRecord(consumer, partition, state);
    if (!states.has(partition)) this.liveBytes += record.byteLength;
    states.set(partition, state);
    this.pending.push(record);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.schedule();
    return done;
  }

  /** Commits of one turn of the event loop share one write and one fdatasync. */
  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const records = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    this.flushing = true;
    const finish = (err: Error | null): void => {
      this.flushing = false;
      if (err) {
        const failure = new BrokerFailure("STORAGE", `${this.label}: storing cursors failed: ${err.message}`);
        for (const w of waiters) w.reject(failure);
      } else {
        for (const w of waiters) w.resolve();
      }
      if (this.pending.length > 0) this.schedule();
    };
    try {
      const { io } = this.ctx;
      const appended = records.reduce((n, r) => n + r.byteLength, 0);
      const threshold = Math.max(STORAGE_DEFAULTS.cursorCompactionMinBytes, STORAGE_DEFAULTS.cursorCompactionRatio * this.liveBytes);
      // Rewriting holds every live cursor, these records included.
      if (this.fileSize + appended > threshold) return finish(this.compact());
      const fd = io.open(this.file, fs.constants.O_RDWR | fs.constants.O_CREAT);
      const created = this.fileSize === 0;
      try {
        const bytes = Buffer.concat(records);
        if (io.write(fd, bytes, this.fileSize) !== bytes.byteLength) throw new Error(`short write to ${this.file}`);
        this.fileSize += bytes.byteLength;
        if (created && this.ctx.durable) io.syncDir(path.dirname(this.file));
      } catch (err) {
        io.close(fd);
        throw err;
      }
      if (!this.ctx.durable) {
        io.close(fd);
        return finish(null);
      }
      io.datasync(fd, (err) => {
        io.close(fd);
        finish(err);
      });
    } catch (err) {
      finish(err as Error);
    }
  }

  /** Rewrites the log with one record per live cursor. */
  private compact(): Error | null {
    const records: Buffer[] = [];
    for (const [consumer, states] of this.cursors) for (const [partition, state] of states) records.push(encodeRecord(consumer, partition, state));
    const bytes = Buffer.concat(records);
    try {
      writeFileAtomic(this.ctx.io, this.file, bytes);
    } catch (err) {
      return err as Error;
    }
    this.fileSize = this.liveBytes = bytes.byteLength;
    return null;
  }

  private load(): void {
    const { io, logger } = this.ctx;
    const buf = io.readFile(this.file);
    let at = 0;
    while (at + RECORD_HEADER_BYTES <= buf.byteLength) {
      const length = buf.readUInt32LE(at);
      const end = at + RECORD_HEADER_BYTES + length;
      if (end > buf.byteLength) break;
      const payload = buf.subarray(at + RECORD_HEADER_BYTES, end);
      if (crc32(payload) !== buf.readUInt32LE(at + 4)) break;
      const record = decodeRecord(payload);
      if (!record) break;
      this.apply(record.consumer, record.partition, record.state);
      at = end;
    }
    if (at < buf.byteLength) {
      logger.warn(`${this.label}: cut ${buf.byteLength - at} damaged bytes from the end of ${this.file} (from byte ${at}); cursors committed after that point fall back to older values`);
      const fd = io.open(this.file, fs.constants.O_RDWR);
      try {
        io.truncate(fd, at);
      } finally {
        io.close(fd);
      }
    }
    this.fileSize = at;
  }

  private importLegacy(legacy: string): void {
    const { io, logger } = this.ctx;
    if (!io.exists(legacy)) return;
    try {
      const parsed: unknown = JSON.parse(io.readFile(legacy).toString("utf8"));
      if (typeof parsed !== "object" || parsed === null) throw new Error("not a JSON object");
      // JSON.parse makes own properties (even "__proto__"), and entries() lists only those.
      for (const [consumer, partitions] of Object.entries(parsed)) {
        if (typeof partitions !== "object" || partitions === null) continue;
        for (const [p, offset] of Object.entries(partitions)) {
          if (Number.isSafeInteger(offset) && /^\d+$/.test(p)) this.apply(consumer, Number(p), { offset: offset as number, generation: 0 });
        }
      }
      const err = this.compact();
      if (err) throw err;
      io.remove(legacy);
    } catch (err) {
      logger.warn(`${this.label}: ${legacy} is unreadable (${(err as Error).message}); its cursors are ignored and it is kept as ${legacy}.unreadable`);
      io.rename(legacy, `${legacy}.unreadable`);
    }
  }

  private apply(consumer: string, partition: number, state: CursorState): void {
    let states = this.cursors.get(consumer);
    if (!states) this.cursors.set(consumer, (states = new Map()));
    if (!states.has(partition)) this.liveBytes += encodeRecord(consumer, partition, state).byteLength;
    states.set(partition, state);
  }
}

function encodeRecord(consumer: string, partition: number, state: CursorState): Buffer {
  const payload = Buffer.from(JSON.stringify({ c: consumer, p: partition, o: state.offset ?? null, g: state.generation }), "utf8");
  const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  header.writeUInt32LE(payload.byteLength, 0);
  header.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

function decodeRecord(payload: Buffer): { consumer: string; partition: number; state: CursorState } | undefined {
  try {
    const r = JSON.parse(payload.toString("utf8")) as { c: unknown; p: unknown; o: unknown; g: unknown };
    if (typeof r.c !== "string" || !Number.isSafeInteger(r.p) || !Number.isSafeInteger(r.g)) return undefined;
    if (r.o !== null && !Number.isSafeInteger(r.o)) return undefined;
    return { consumer: r.c, partition: r.p as number, state: { offset: r.o === null ? undefined : (r.o as number), generation: r.g as number } };
  } catch {
    return undefined;
  }
}
