/**
 * Event IDs reserved on disk ahead of the log, for fsync `interval`.
 *
 * Under `interval` a batch is acknowledged before its bytes reach the disk. After a power
 * loss the log ends earlier than what was acknowledged, and without this file the next
 * batch would get an acknowledged ID again. So before an ID is acknowledged, a durable
 * ceiling above it is written here (a block at a time, ahead of need, so acks rarely
 * wait). Recovery after a reboot continues the log at the ceiling and records the IDs in
 * between as a gap: events may be lost, their IDs are never given to other events.
 *
 * The file has two slots in separate sectors, written alternately, each
 * [u32 magic][f64 sequence][f64 ceiling][u8 boot id length][boot id][u32 crc32]; the
 * valid slot with the higher sequence wins, so a torn write loses only the newest one.
 */
import fs from "node:fs";
import { crc32 } from "node:zlib";
import type { StorageIO } from "./storage-io.js";

const MAGIC = 0x52444954; // "TIDR"
const SLOT_STRIDE = 512;
const SLOT_BYTES = 4 + 8 + 8 + 1 + 64 + 4;

export interface StoredReservation {
  ceiling: number;
  /** Boot the ceiling was written in; undefined when the machine did not tell. */
  bootId: string | undefined;
  sequence: number;
}

export class IdReservation {
  private inFlight: Promise<void> | undefined;
  private sequence: number;

  private constructor(
    private readonly io: StorageIO,
    private readonly file: string,
    private readonly block: number,
    private durableCeiling: number,
    stored: StoredReservation | undefined,
    /** Told when an extension fails: acks above the ceiling can no longer be given. */
    private readonly onError: (err: Error) => void,
  ) {
    this.sequence = stored?.sequence ?? 0;
  }

  /** Reads the reservation file; undefined when it is missing or no slot is intact. */
  static read(io: StorageIO, file: string): StoredReservation | undefined {
    if (!io.exists(file)) return undefined;
    const buf = io.readFile(file);
    let best: StoredReservation | undefined;
    for (let slot = 0; slot < 2; slot++) {
      const at = slot * SLOT_STRIDE;
      if (at + SLOT_BYTES > buf.byteLength) continue;
      const s = buf.subarray(at, at + SLOT_BYTES);
      if (s.readUInt32LE(0) !== MAGIC || crc32(s.subarray(0, SLOT_BYTES - 4)) !== s.readUInt32LE(SLOT_BYTES - 4)) continue;
      const bootLength = Math.min(64, s.readUInt8(20));
      const candidate = { sequence: s.readDoubleLE(4), ceiling: s.readDoubleLE(12), bootId: bootLength ? s.toString("latin1", 21, 21 + bootLength) : undefined };
      if (!best || candidate.sequence > best.sequence) best = candidate;
    }
    return best;
  }

  /**
   * Starts maintaining the reservation of a partition. The file is created (and its
   * directory entry made durable) when missing.
   */
  static open(io: StorageIO, dir: string, file: string, block: number, stored: StoredReservation | undefined, onError: (err: Error) => void): IdReservation {
    if (!stored) {
      const fd = io.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT);
      io.close(fd);
      io.syncDir(dir);
    }
    return new IdReservation(io, file, block, stored?.ceiling ?? 0, stored, onError);
  }

  get ceiling(): number {
    return this.durableCeiling;
  }

  /**
   * Makes sure every ID below `upto` is covered. Returns undefined when it already is
   * (the common case), otherwise a promise that resolves once it is durable. Extends
   * ahead of need once half of the block is used, so appends rarely wait.
   */
  cover(upto: number): Promise<void> | undefined {
    if (!this.inFlight && upto > this.durableCeiling - this.block / 2) this.extend(upto + this.block);
    if (upto <= this.durableCeiling) return undefined;
    return this.waitFor(upto);
  }

  /** Writes `ceiling` durably now, blocking (clean close: the log ends exactly there). */
  setNow(ceiling: number): void {
    const fd = this.io.open(this.file, fs.constants.O_RDWR);
    try {
      this.writeSlot(fd, ceiling);
      this.io.datasyncNow(fd);
    } finally {
      this.io.close(fd);
    }
    this.durableCeiling = ceiling;
  }

  private waitFor(upto: number): Promise<void> {
    const running = this.inFlight ?? Promise.resolve();
    return running.then(() => {
      if (upto <= this.durableCeiling) return;
      if (!this.inFlight) this.extend(upto + this.block);
      return this.waitFor(upto);
    });
  }

  private extend(ceiling: number): void {
    const flight = new Promise<void>((resolve, reject) => {
      let fd: number;
      try {
        fd = this.io.open(this.file, fs.constants.O_RDWR);
        this.writeSlot(fd, ceiling);
      } catch (err) {
        return reject(err);
      }
      this.io.datasync(fd, (err) => {
        try {
          this.io.close(fd);
        } catch {
          // the sync result is what counts
        }
        if (err) return reject(err);
        this.durableCeiling = Math.max(this.durableCeiling, ceiling);
        resolve();
      });
    });
    this.inFlight = flight;
    const clear = (): void => {
      if (this.inFlight === flight) this.inFlight = undefined;
    };
    flight.then(clear, (err: Error) => {
      clear();
      this.onError(err);
    });
  }

  private writeSlot(fd: number, ceiling: number): void {
    this.sequence++;
    const slot = Buffer.alloc(SLOT_BYTES);
    slot.writeUInt32LE(MAGIC, 0);
    slot.writeDoubleLE(this.sequence, 4);
    slot.writeDoubleLE(ceiling, 12);
    const boot = Buffer.from(this.io.bootId() ?? "", "latin1").subarray(0, 64);
    slot.writeUInt8(boot.byteLength, 20);
    boot.copy(slot, 21);
    slot.writeUInt32LE(crc32(slot.subarray(0, SLOT_BYTES - 4)), SLOT_BYTES - 4);
    const at = (this.sequence % 2) * SLOT_STRIDE;
    if (this.io.write(fd, slot, at) !== SLOT_BYTES) throw new Error(`short write of the ID reservation ${this.file}`);
  }
}
