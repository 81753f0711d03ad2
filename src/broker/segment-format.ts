/**
 * On-disk layout of a partition: segment files of batch frames, plus an index file
 * per segment with one fixed-size entry per batch.
 *
 * Frame: [u32 magic][u32 crc32 of bytes 8..end][u32 frame length][f64 base offset]
 *        [u32 count][f64 append time ms][f64 batch seq][u16 producer id length]
 *        [producer id UTF-8][record blob]
 * Index entry: [f64 base offset][f64 count][f64 frame position][f64 append time ms]
 */
import { crc32 } from "node:zlib";

export const FRAME_MAGIC = 0x54524942; // "TRIB"
export const FRAME_FIXED_BYTES = 42;
export const INDEX_ENTRY_BYTES = 32;
export const MAX_PRODUCER_ID_BYTES = 255;

export interface FrameHeader {
  frameLength: number;
  baseOffset: number;
  count: number;
  timestampMs: number;
  batchSeq: number;
  producerId: string;
  /** Offset of the record blob from the frame start. */
  recordsAt: number;
}

/** Builds the header bytes of a frame for `records` and returns them with the crc filled in. */
export function encodeFrameHeader(
  baseOffset: number,
  count: number,
  timestampMs: number,
  batchSeq: number,
  producerId: Buffer,
  records: Uint8Array,
): Buffer {
  const header = Buffer.allocUnsafe(FRAME_FIXED_BYTES + producerId.byteLength);
  header.writeUInt32LE(FRAME_MAGIC, 0);
  header.writeUInt32LE(header.byteLength + records.byteLength, 8);
  header.writeDoubleLE(baseOffset, 12);
  header.writeUInt32LE(count, 20);
  header.writeDoubleLE(timestampMs, 24);
  header.writeDoubleLE(batchSeq, 32);
  header.writeUInt16LE(producerId.byteLength, 40);
  producerId.copy(header, FRAME_FIXED_BYTES);
  header.writeUInt32LE(crc32(records, crc32(header.subarray(8))), 4);
  return header;
}

/**
 * Reads the frame header at `at` of `buf`. Returns undefined when the bytes there are
 * not a whole frame (wrong magic, length past the end), without checking the crc.
 */
export function readFrameHeader(buf: Buffer, at: number): FrameHeader | undefined {
  if (at + FRAME_FIXED_BYTES > buf.byteLength) return undefined;
  if (buf.readUInt32LE(at) !== FRAME_MAGIC) return undefined;
  const frameLength = buf.readUInt32LE(at + 8);
  const idLength = buf.readUInt16LE(at + 40);
  if (frameLength < FRAME_FIXED_BYTES + idLength) return undefined;
  if (FRAME_FIXED_BYTES + idLength > buf.byteLength - at) return undefined;
  return {
    frameLength,
    baseOffset: buf.readDoubleLE(at + 12),
    count: buf.readUInt32LE(at + 20),
    timestampMs: buf.readDoubleLE(at + 24),
    batchSeq: buf.readDoubleLE(at + 32),
    producerId: buf.toString("utf8", at + FRAME_FIXED_BYTES, at + FRAME_FIXED_BYTES + idLength),
    recordsAt: FRAME_FIXED_BYTES + idLength,
  };
}

/** True when the whole frame at `at` is inside `buf` and its crc matches. */
export function frameIsValid(buf: Buffer, at: number, header: FrameHeader): boolean {
  if (at + header.frameLength > buf.byteLength) return false;
  const expected = buf.readUInt32LE(at + 4);
  return crc32(buf.subarray(at + 8, at + header.frameLength)) === expected;
}

export function encodeIndexEntry(baseOffset: number, count: number, position: number, timestampMs: number): Buffer {
  const entry = Buffer.allocUnsafe(INDEX_ENTRY_BYTES);
  entry.writeDoubleLE(baseOffset, 0);
  entry.writeDoubleLE(count, 8);
  entry.writeDoubleLE(position, 16);
  entry.writeDoubleLE(timestampMs, 24);
  return entry;
}

/** Name of a segment file: its base offset, zero-padded so names sort like numbers. */
export const segmentName = (baseOffset: number): string => String(baseOffset).padStart(20, "0");
