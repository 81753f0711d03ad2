/**
 * Metadata files replaced so that a crash or a power loss leaves either the old or the
 * new content, never a torn mix: write a temporary file, fdatasync it, rename it over
 * the old one, fsync the directory.
 */
import fs from "node:fs";
import path from "node:path";
import { writeFully, type StorageIO } from "./storage-io.js";

export function writeFileAtomic(io: StorageIO, file: string, content: string | Uint8Array): void {
  const tmp = `${file}.tmp`;
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  const fd = io.open(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC);
  try {
    writeFully(io, fd, [bytes], 0);
    io.datasyncNow(fd);
  } finally {
    io.close(fd);
  }
  io.rename(tmp, file);
  io.syncDir(path.dirname(file));
}
