/**
 * On-disk layout of a partition: segment files of frames, plus an index file per
 * segment with one fixed-size entry per frame.
 *
 * Batch frame: [u32 magic "TRIB"][u32 crc32 of bytes 8..end][u32 frame length]
 *              [f64 base offset][u32 count][f64 append time ms][f64 batch seq]
 *              [u16 producer id length][producer id UTF-8][record blob]
 * Gap frame:   the same header with magic "TGAP", no producer id and no records. It
 *              stands for `count` IDs that recovery skipped (see id-reservation.ts):
 *              reads pass over it, appends never reuse its IDs.
 * Index entry: [f64 base offset][f64 count][f64 frame position][f64 append time ms]
 *              [u32 crc32 of the 32 bytes before]
 */
import { crc32 } from "node:zlib";

export const FRAME_MAGIC = 0x54524942; // "TRIB"
export const GAP_MAGIC = 0x54474150; // "TGAP"
export const FRAME_FIXED_BYTES = 42;
export const INDEX_ENTRY_BYTES = 36;
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
  /** A gap frame: IDs skipped by recovery, no events. */
  gap: boolean;
}

function encodeHeader(magic: number, baseOffset: number, count: number, timestampMs: number, batchSeq: number, producerId: Buffer, recordBytes: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_FIXED_BYTES + producerId.byteLength);
  header.writeUInt32LE(magic, 0);
  header.writeUInt32LE(header.byteLength + recordBytes, 8);
  header.writeDoubleLE(baseOffset, 12);
  header.writeUInt32LE(count, 20);
  header.writeDoubleLE(timestampMs, 24);
  header.writeDoubleLE(batchSeq, 32);
  header.writeUInt16LE(producerId.byteLength, 40);
  producerId.copy(header, FRAME_FIXED_BYTES);
  return header;
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
  const header = encodeHeader(FRAME_MAGIC, baseOffset, count, timestampMs, batchSeq, producerId, records.byteLength);
  header.writeUInt32LE(crc32(records, crc32(header.subarray(8))), 4);
  return header;
}

/** A whole gap frame covering `count` IDs from `baseOffset`. */
export function encodeGapFrame(baseOffset: number, count: number, timestampMs: number): Buffer {
  const frame = encodeHeader(GAP_MAGIC, baseOffset, count, timestampMs, 0, Buffer.alloc(0), 0);
  frame.writeUInt32LE(crc32(frame.subarray(8)), 4);
  return frame;
}

/**
 * Reads the frame header at `at` of `buf`. Returns undefined when the bytes there are
 * not a frame header (wrong magic, impossible lengths), without checking the crc.
 */
export function readFrameHeader(buf: Buffer, at: number): FrameHeader | undefined {
  if (at + FRAME_FIXED_BYTES > buf.byteLength) return undefined;
  const magic = buf.readUInt32LE(at);
  if (magic !== FRAME_MAGIC && magic !== GAP_MAGIC) return undefined;
  const frameLength = buf.readUInt32LE(at + 8);
  const idLength = buf.readUInt16LE(at + 40);
  if (frameLength < FRAME_FIXED_BYTES + idLength) return undefined;
  if (FRAME_FIXED_BYTES + idLength > buf.byteLength - at) return undefined;
  const count = buf.readUInt32LE(at + 20);
  const baseOffset = buf.readDoubleLE(at + 12);
  if (count < 1 || !Number.isSafeInteger(baseOffset) || baseOffset < 0) return undefined;
  return {
    frameLength,
    baseOffset,
    count,
    timestampMs: buf.readDoubleLE(at + 24),
    batchSeq: buf.readDoubleLE(at + 32),
    producerId: buf.toString("utf8", at + FRAME_FIXED_BYTES, at + FRAME_FIXED_BYTES + idLength),
    recordsAt: FRAME_FIXED_BYTES + idLength,
    gap: magic === GAP_MAGIC,
  };
}

/** True when the whole frame at `at` is inside `buf` and its crc matches. */
export function frameIsValid(buf: Buffer, at: number, header: FrameHeader): boolean {
  if (at + header.frameLength > buf.byteLength) return false;
  if (header.gap && header.frameLength !== FRAME_FIXED_BYTES) return false;
  const expected = buf.readUInt32LE(at + 4);
  return crc32(buf.subarray(at + 8, at + header.frameLength)) === expected;
}

/**
 * Position of the next whole, valid frame after `from` whose base offset is at least
 * `minBase`, or undefined. Recovery uses it to step over a damaged frame to the intact
 * ones behind it instead of dropping them; the crc makes a false match negligible.
 */
export function findNextFrame(buf: Buffer, from: number, minBase: number): { at: number; header: FrameHeader } | undefined {
  const magics = [Buffer.alloc(4), Buffer.alloc(4)];
  magics[0]!.writeUInt32LE(FRAME_MAGIC, 0);
  magics[1]!.writeUInt32LE(GAP_MAGIC, 0);
  let at = from;
  while (at < buf.byteLength) {
    const hits = magics.map((m) => buf.indexOf(m, at)).filter((i) => i >= 0);
    if (hits.length === 0) return undefined;
    const candidate = Math.min(...hits);
    const header = readFrameHeader(buf, candidate);
    if (header && header.baseOffset >= minBase && frameIsValid(buf, candidate, header)) return { at: candidate, header };
    at = candidate + 1;
  }
  return undefined;
}

export interface IndexEntry {
  baseOffset: number;
  count: number;
  position: number;
  timestampMs: number;
}

export function encodeIndexEntry(baseOffset: number, count: number, position: number, timestampMs: number): Buffer {
  const entry = Buffer.allocUnsafe(INDEX_ENTRY_BYTES);
  entry.writeDoubleLE(baseOffset, 0);
  entry.writeDoubleLE(count, 8);
  entry.writeDoubleLE(position, 16);
  entry.writeDoubleLE(timestampMs, 24);
  entry.writeUInt32LE(crc32(entry.subarray(0, 32)), 32);
  return entry;
}

/**
 * Decodes a whole index file; undefined when its length is not a whole number of
 * entries or an entry fails its checksum (damaged, or written in an older format).
 */
export function decodeIndex(index: Buffer): IndexEntry[] | undefined {
  if (index.byteLength % INDEX_ENTRY_BYTES !== 0) return undefined;
  const entries: IndexEntry[] = [];
  for (let at = 0; at < index.byteLength; at += INDEX_ENTRY_BYTES) {
    if (crc32(index.subarray(at, at + 32)) !== index.readUInt32LE(at + 32)) return undefined;
    entries.push({
      baseOffset: index.readDoubleLE(at),
      count: index.readDoubleLE(at + 8),
      position: index.readDoubleLE(at + 16),
      timestampMs: index.readDoubleLE(at + 24),
    });
  }
  return entries;
}

/** Name of a segment file: its base offset, zero-padded so names sort like numbers. */
export const segmentName = (baseOffset: number): string => String(baseOffset).padStart(20, "0");
