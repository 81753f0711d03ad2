/**
 * File descriptors for reading closed segments, opened on demand and closed least
 * recently used past a budget. Without it every segment ever written held its files
 * open, and a long log ran out of descriptors (EMFILE) and refused appends.
 */
import fs from "node:fs";
import type { StorageIO } from "./storage-io.js";

export class FdCache {
  /** Path → descriptor, least recently used first (a Map keeps insertion order). */
  private readonly open = new Map<string, number>();

  constructor(private readonly io: StorageIO, private readonly budget: number) {}

  /** Positional read from `file`, opening it if needed. */
  read(file: string, buffer: Uint8Array, position: number): number {
    let fd = this.open.get(file);
    if (fd === undefined) {
      while (this.open.size >= this.budget) this.evictOldest();
      fd = this.io.open(file, fs.constants.O_RDONLY);
    } else {
      this.open.delete(file);
    }
    this.open.set(file, fd);
    return this.io.read(fd, buffer, position);
  }

  /** Closes the descriptor of `file`, if open (segment deleted or rewritten). */
  drop(file: string): void {
    const fd = this.open.get(file);
    if (fd === undefined) return;
    this.open.delete(file);
    this.io.close(fd);
  }

  get size(): number {
    return this.open.size;
  }

  closeAll(): void {
    for (const file of [...this.open.keys()]) this.drop(file);
  }

  private evictOldest(): void {
    const oldest = this.open.keys().next().value;
    if (oldest !== undefined) this.drop(oldest);
  }
}
