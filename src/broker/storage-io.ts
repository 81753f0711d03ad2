/**
 * Every file-system call the broker's storage makes, behind one small interface. The
 * broker runs on `nodeStorageIO`; tests pass their own to record what reached the disk
 * (the power-loss model) or to inject faults. Nothing else should implement it.
 */
import fs from "node:fs";

export interface StorageIO {
  /** Opens a file (flags from `fs.constants`); returns its descriptor. */
  open(file: string, flags: number, mode?: number): number;
  close(fd: number): void;
  /** Positional write of `buffers` back to back; returns the bytes written (may be short). */
  writev(fd: number, buffers: readonly Uint8Array[], position: number): number;
  /** Positional write; returns the bytes written (may be short). */
  write(fd: number, buffer: Uint8Array, position: number): number;
  /** Positional read into `buffer`; returns the bytes read. */
  read(fd: number, buffer: Uint8Array, position: number): number;
  /** Current size of an open file. */
  size(fd: number): number;
  truncate(fd: number, length: number): void;
  /** fdatasync on the thread pool: the event loop keeps running while the disk works. */
  datasync(fd: number, callback: (err: Error | null) => void): void;
  /** fdatasync, blocking: for rare points (segment roll, close, metadata). */
  datasyncNow(fd: number): void;
  /** Makes a directory's entries durable: after creating, renaming or removing in it. */
  syncDir(dir: string): void;
  readFile(file: string): Buffer;
  rename(from: string, to: string): void;
  /** Creates a directory and its missing parents. */
  mkdir(dir: string): void;
  readdir(dir: string): string[];
  exists(file: string): boolean;
  /** Removes a file or a whole directory tree; no error when it is already gone. */
  remove(target: string): void;
  /**
   * Identifies this boot of the machine, or undefined when unknown. A change tells
   * recovery that the page cache was lost with the power, not only the process.
   */
  bootId(): string | undefined;
}

const BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id";

export const nodeStorageIO: StorageIO = {
  open: (file, flags, mode = 0o644) => fs.openSync(file, flags, mode),
  close: (fd) => fs.closeSync(fd),
  writev: (fd, buffers, position) => fs.writevSync(fd, buffers as Uint8Array[], position),
  write: (fd, buffer, position) => fs.writeSync(fd, buffer, 0, buffer.byteLength, position),
  read: (fd, buffer, position) => fs.readSync(fd, buffer, 0, buffer.byteLength, position),
  size: (fd) => fs.fstatSync(fd).size,
  truncate: (fd, length) => fs.ftruncateSync(fd, length),
  datasync: (fd, callback) => fs.fdatasync(fd, (err) => callback(err)),
  datasyncNow: (fd) => fs.fdatasyncSync(fd),
  syncDir: (dir) => {
    const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  readFile: (file) => fs.readFileSync(file),
  rename: (from, to) => fs.renameSync(from, to),
  mkdir: (dir) => void fs.mkdirSync(dir, { recursive: true }),
  readdir: (dir) => fs.readdirSync(dir),
  exists: (file) => fs.existsSync(file),
  remove: (target) => fs.rmSync(target, { recursive: true, force: true }),
  bootId: () => {
    try {
      return fs.readFileSync(BOOT_ID_FILE, "utf8").trim() || undefined;
    } catch {
      return undefined;
    }
  },
};

/** Writes all of `buffers` at `position`, finishing a short write. */
export function writeFully(io: StorageIO, fd: number, buffers: readonly Uint8Array[], position: number): void {
  const length = buffers.reduce((n, b) => n + b.byteLength, 0);
  let written = io.writev(fd, buffers, position);
  if (written === length) return;
  const all = Buffer.concat(buffers as Uint8Array[]);
  while (written < length) {
    const n = io.write(fd, all.subarray(written), position + written);
    if (n <= 0) throw new Error(`short write: ${written} of ${length} bytes at position ${position}`);
    written += n;
  }
}
