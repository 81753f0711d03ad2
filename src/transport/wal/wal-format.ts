/**
 * Frames of the producer's write-ahead log. A WAL segment is frames back to back:
 *
 *   [u32 magic "TWAL"][u32 crc32 of bytes 8..end][u32 frame length][u8 kind]
 *   kind 1, batch: [u32 partition][f64 seq][u32 count][record blob]
 *   kind 2, done:  [u32 partition][f64 seq]
 *
 * A batch frame holds one batch exactly as the transport sends it; a done frame says
 * the log acknowledged (or finally refused) that batch, so it is not replayed. A frame
 * whose checksum does not match ends the readable part of a segment: a crash during a
 * write leaves a torn tail, and everything before it is intact.
 */
import { crc32 } from "node:zlib";

export const WAL_MAGIC = 0x4c415754; // "TWAL" little-endian
export const FRAME_HEADER_BYTES = 13;
const BATCH_FIXED = FRAME_HEADER_BYTES + 16;
const DONE_BYTES = FRAME_HEADER_BYTES + 12;

export const enum FrameKind {
  Batch = 1,
  Done = 2,
}

export type WalFrame =
  | { kind: FrameKind.Batch; partition: number; seq: number; count: number; recordsAt: number; recordsLength: number; frameLength: number }
  | { kind: FrameKind.Done; partition: number; seq: number; frameLength: number };

/** The header of a batch frame; the records follow it on disk as they are (one writev). */
export function encodeBatchHeader(partition: number, seq: number, count: number, records: Uint8Array): Buffer {
  const h = Buffer.allocUnsafe(BATCH_FIXED);
  h.writeUInt32LE(WAL_MAGIC, 0);
  h.writeUInt32LE(BATCH_FIXED + records.byteLength, 8);
  h.writeUInt8(FrameKind.Batch, 12);
  h.writeUInt32LE(partition, 13);
  h.writeDoubleLE(seq, 17);
  h.writeUInt32LE(count, 25);
  h.writeUInt32LE(crc32(records, crc32(h.subarray(8))), 4);
  return h;
}

export function encodeDone(partition: number, seq: number): Buffer {
  const f = Buffer.allocUnsafe(DONE_BYTES);
  f.writeUInt32LE(WAL_MAGIC, 0);
  f.writeUInt32LE(DONE_BYTES, 8);
  f.writeUInt8(FrameKind.Done, 12);
  f.writeUInt32LE(partition, 13);
  f.writeDoubleLE(seq, 17);
  f.writeUInt32LE(crc32(f.subarray(8)), 4);
  return f;
}

/**
 * The frame at `at` of `buf`, checked, or undefined where the readable part ends (a torn
 * or corrupt frame, or the end of the buffer).
 */
export function readFrame(buf: Buffer, at: number): WalFrame | undefined {
  if (at + FRAME_HEADER_BYTES > buf.byteLength || buf.readUInt32LE(at) !== WAL_MAGIC) return undefined;
  const frameLength = buf.readUInt32LE(at + 8);
  const kind = buf.readUInt8(at + 12);
  const min = kind === FrameKind.Batch ? BATCH_FIXED : kind === FrameKind.Done ? DONE_BYTES : Infinity;
  if (frameLength < min || at + frameLength > buf.byteLength) return undefined;
  if (crc32(buf.subarray(at + 8, at + frameLength)) !== buf.readUInt32LE(at + 4)) return undefined;
  const partition = buf.readUInt32LE(at + 13);
  const seq = buf.readDoubleLE(at + 17);
  if (kind === FrameKind.Done) return { kind, partition, seq, frameLength };
  return { kind: FrameKind.Batch, partition, seq, count: buf.readUInt32LE(at + 25), recordsAt: at + BATCH_FIXED, recordsLength: frameLength - BATCH_FIXED, frameLength };
}

/** Where a batch's records lie in the WAL. */
export interface WalRef {
  segment: number;
  /** Offset of the records (after the frame header). */
  position: number;
  length: number;
}

export const BATCH_HEADER_BYTES = BATCH_FIXED;
