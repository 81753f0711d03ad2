/**
 * A StorageIO for tests: node:fs underneath, plus
 * - a power-loss model: it records, per file, the size covered by the last *completed*
 *   fdatasync, and which directory entries (created files and directories, renames) were
 *   not yet made durable by an fsync of their directory. `crash()` freezes the disk
 *   (every later write, sync, rename fails with EIO) and `powerLoss()` then cuts every
 *   file to its synced size, removes entries never made durable and undoes un-synced
 *   renames, and changes the boot ID, as a reboot would.
 * - fault injection: `faults` can fail opens, writes and fdatasyncs of chosen files.
 *
 * What the model does not do: tear or reorder writes inside a synced range, or undo
 * deletions; the corruption matrix covers damaged bytes.
 */
import fs from "node:fs";
import path from "node:path";
import { nodeStorageIO, type StorageIO } from "../dist/src/broker/storage-io.js";

export interface Faults {
  open?(file: string, flags: number): Error | undefined;
  write?(file: string): Error | undefined;
  datasync?(file: string): Error | undefined;
}

const eio = (what: string): Error => Object.assign(new Error(`EIO: simulated power loss (${what})`), { code: "EIO" });

export class ModelIO implements StorageIO {
  faults: Faults = {};
  /** Longest fdatasync seen (ms): part of the interval policy's window. */
  maxSyncMs = 0;
  /**
   * Longest time between two fdatasyncs of a partition's segments starting (ms), up to
   * the power loss: the rest of that window.
   */
  maxSyncGapMs = 0;
  private readonly lastSyncStart = new Map<string, number>();
  private bootIdValue = "boot-1";
  /** Set once the power went out: measurements stop there. */
  private lostPower = false;
  private crashed = false;
  private readonly fdPath = new Map<number, string>();
  /** File → bytes covered by its last completed fdatasync (files touched since recording began). */
  private readonly synced = new Map<string, number>();
  /** Entries created or renamed into place whose directory was not fsynced since. */
  private readonly volatile = new Set<string>();
  /** Rename targets not yet durable → their content before the rename (null: did not exist). */
  private readonly before = new Map<string, Buffer | null>();

  crash(): void {
    this.crashed = true;
    this.lostPower = true;
    // The gap still open when the power goes counts like the ones that closed.
    const now = performance.now();
    for (const started of this.lastSyncStart.values()) this.maxSyncGapMs = Math.max(this.maxSyncGapMs, now - started);
  }

  get isCrashed(): boolean {
    return this.crashed;
  }

  /** Applies the model to the files and "reboots": the disk is usable again. */
  powerLoss(): { truncated: number; removed: number } {
    let truncated = 0;
    let removed = 0;
    for (const entry of [...this.volatile].sort((a, b) => a.length - b.length)) {
      if (fs.existsSync(entry)) {
        fs.rmSync(entry, { recursive: true, force: true });
        removed++;
      }
    }
    for (const [file, content] of this.before) if (content) fs.writeFileSync(file, content);
    for (const [file, size] of this.synced) {
      if (!fs.existsSync(file)) continue;
      if (fs.statSync(file).size > size) {
        fs.truncateSync(file, size);
        truncated++;
      }
    }
    this.synced.clear();
    this.volatile.clear();
    this.before.clear();
    this.fdPath.clear();
    this.lastSyncStart.clear();
    this.crashed = false;
    this.bootIdValue = `boot-${Number(this.bootIdValue.slice(5)) + 1}`;
    return { truncated, removed };
  }

  open(file: string, flags: number, mode?: number): number {
    const fault = this.faults.open?.(file, flags);
    if (fault) throw fault;
    const creates = (flags & fs.constants.O_CREAT) !== 0;
    const existed = fs.existsSync(file);
    if (this.crashed && (creates || (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR)) !== 0)) throw eio(`open ${file}`);
    const fd = nodeStorageIO.open(file, flags, mode);
    this.fdPath.set(fd, file);
    if (!this.synced.has(file)) this.synced.set(file, existed ? nodeStorageIO.size(fd) : 0);
    if ((flags & fs.constants.O_TRUNC) !== 0) this.synced.set(file, 0);
    if (creates && !existed) this.volatile.add(file);
    return fd;
  }

  close(fd: number): void {
    this.fdPath.delete(fd);
    nodeStorageIO.close(fd);
  }

  writev(fd: number, buffers: readonly Uint8Array[], position: number): number {
    this.checkWrite(fd);
    return nodeStorageIO.writev(fd, buffers, position);
  }

  write(fd: number, buffer: Uint8Array, position: number): number {
    this.checkWrite(fd);
    return nodeStorageIO.write(fd, buffer, position);
  }

  read(fd: number, buffer: Uint8Array, position: number): number {
    return nodeStorageIO.read(fd, buffer, position);
  }

  size(fd: number): number {
    return nodeStorageIO.size(fd);
  }

  truncate(fd: number, length: number): void {
    if (this.crashed) throw eio("ftruncate");
    nodeStorageIO.truncate(fd, length);
    const file = this.fdPath.get(fd);
    if (file) this.synced.set(file, Math.min(this.synced.get(file) ?? length, length));
  }

  datasync(fd: number, callback: (err: Error | null) => void): void {
    const file = this.fdPath.get(fd) ?? "?";
    const fault = this.faults.datasync?.(file);
    if (fault) return void setImmediate(() => callback(fault));
    if (this.crashed) return void setImmediate(() => callback(eio(`fdatasync ${file}`)));
    const size = nodeStorageIO.size(fd);
    const started = performance.now();
    if (/\d{20}\.log$/.test(file) && !this.crashed && !this.lostPower) {
      const partition = path.dirname(file);
      const previous = this.lastSyncStart.get(partition);
      if (previous !== undefined) this.maxSyncGapMs = Math.max(this.maxSyncGapMs, started - previous);
      this.lastSyncStart.set(partition, started);
    }
    nodeStorageIO.datasync(fd, (err) => {
      this.maxSyncMs = Math.max(this.maxSyncMs, performance.now() - started);
      // A sync that completes after the power went out never completed.
      if (this.crashed) return callback(eio(`fdatasync ${file}`));
      if (!err) this.synced.set(file, Math.max(this.synced.get(file) ?? 0, size));
      callback(err);
    });
  }

  datasyncNow(fd: number): void {
    const file = this.fdPath.get(fd) ?? "?";
    const fault = this.faults.datasync?.(file);
    if (fault) throw fault;
    if (this.crashed) throw eio(`fdatasync ${file}`);
    const size = nodeStorageIO.size(fd);
    nodeStorageIO.datasyncNow(fd);
    this.synced.set(file, Math.max(this.synced.get(file) ?? 0, size));
  }

  syncDir(dir: string): void {
    if (this.crashed) throw eio(`fsync ${dir}`);
    nodeStorageIO.syncDir(dir);
    for (const entry of [...this.volatile]) if (path.dirname(entry) === dir) this.volatile.delete(entry);
    for (const target of [...this.before.keys()]) if (path.dirname(target) === dir) this.before.delete(target);
  }

  readFile(file: string): Buffer {
    return nodeStorageIO.readFile(file);
  }

  rename(from: string, to: string): void {
    if (this.crashed) throw eio(`rename ${from}`);
    if (!this.before.has(to)) this.before.set(to, fs.existsSync(to) && fs.statSync(to).isFile() ? fs.readFileSync(to) : null);
    nodeStorageIO.rename(from, to);
    this.rekey(from, to);
    this.volatile.add(to);
  }

  mkdir(dir: string): void {
    if (fs.existsSync(dir)) return;
    if (this.crashed) throw eio(`mkdir ${dir}`);
    const missing: string[] = [];
    for (let d = dir; !fs.existsSync(d); d = path.dirname(d)) missing.push(d);
    nodeStorageIO.mkdir(dir);
    for (const d of missing) this.volatile.add(d);
  }

  readdir(dir: string): string[] {
    return nodeStorageIO.readdir(dir);
  }

  exists(file: string): boolean {
    return nodeStorageIO.exists(file);
  }

  remove(target: string): void {
    if (this.crashed) throw eio(`remove ${target}`);
    nodeStorageIO.remove(target);
    for (const map of [this.synced, this.before]) for (const key of [...map.keys()]) if (key === target || key.startsWith(target + path.sep)) map.delete(key);
    for (const key of [...this.volatile]) if (key === target || key.startsWith(target + path.sep)) this.volatile.delete(key);
  }

  bootId(): string {
    return this.bootIdValue;
  }

  private checkWrite(fd: number): void {
    const file = this.fdPath.get(fd) ?? "?";
    if (this.crashed) throw eio(`write ${file}`);
    const fault = this.faults.write?.(file);
    if (fault) throw fault;
  }

  /** A rename moves what is known about a path (and everything below it) to the new path. */
  private rekey(from: string, to: string): void {
    const move = (key: string): string | undefined =>
      key === from ? to : key.startsWith(from + path.sep) ? to + key.slice(from.length) : undefined;
    for (const map of [this.synced, this.before] as Map<string, unknown>[]) {
      for (const [key, value] of [...map]) {
        const moved = move(key);
        if (moved && key !== to) {
          map.delete(key);
          if (map !== this.before) map.set(moved, value);
        }
      }
    }
    for (const key of [...this.volatile]) {
      const moved = move(key);
      if (moved) {
        this.volatile.delete(key);
        this.volatile.add(moved);
      }
    }
    for (const [fd, key] of this.fdPath) {
      const moved = move(key);
      if (moved) this.fdPath.set(fd, moved);
    }
  }
}
