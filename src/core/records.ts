/**
 * The record blob: how a batch's events travel on the wire and lie on disk.
 *
 * A blob is `count` records back to back, each
 * `[u32 LE metadataLength][u32 LE dataLength][metadata bytes][data bytes]`.
 * The broker stores the blob as it arrives; it only walks the length prefixes to
 * check sizes and to find an offset inside a batch, never decoding an event.
 */
import { TributaryError } from "./errors.js";

/** Bytes of the per-record length prefix. */
export const RECORD_HEADER_BYTES = 8;

/** One decoded record; `metadata` and `data` are views into the blob, not copies. */
export interface RecordView {
  metadata: Uint8Array;
  data: Uint8Array;
}

/** Size on the wire of one record. */
export function recordSize(metadataLength: number, dataLength: number): number {
  return RECORD_HEADER_BYTES + metadataLength + dataLength;
}

/** Writes one record at `offset` of `target`; returns the offset after it. */
export function writeRecord(
  target: Uint8Array,
  view: DataView,
  offset: number,
  metadata: Uint8Array,
  data: Uint8Array | readonly Uint8Array[],
): number {
  const dataLength = Array.isArray(data)
    ? (data as readonly Uint8Array[]).reduce((n, part) => n + part.byteLength, 0)
    : (data as Uint8Array).byteLength;
  view.setUint32(offset, metadata.byteLength, true);
  view.setUint32(offset + 4, dataLength, true);
  let at = offset + RECORD_HEADER_BYTES;
  target.set(metadata, at);
  at += metadata.byteLength;
  if (Array.isArray(data)) {
    for (const part of data as readonly Uint8Array[]) {
      target.set(part, at);
      at += part.byteLength;
    }
  } else {
    target.set(data as Uint8Array, at);
    at += (data as Uint8Array).byteLength;
  }
  return at;
}

/** Encodes records into a fresh blob (tests, tools and the raw client use this). */
export function encodeRecords(records: readonly { metadata: Uint8Array; data?: Uint8Array }[]): Uint8Array {
  let size = 0;
  for (const r of records) size += recordSize(r.metadata.byteLength, r.data?.byteLength ?? 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const empty = new Uint8Array(0);
  for (const r of records) at = writeRecord(out, view, at, r.metadata, r.data ?? empty);
  return out;
}

/** Problem found while walking a blob. */
export class MalformedRecordsError extends TributaryError {
  override name = "MalformedRecordsError";
  constructor(message: string) {
    super(message, { code: "MALFORMED_BATCH", retriable: false });
  }
}

/**
 * Walks the length prefixes of a blob and checks it holds exactly `count` records, none
 * larger than `maxEventBytes`. Returns nothing; throws MalformedRecordsError or
 * EventTooLarge (as a RangeError) naming the offending record.
 */
export function checkRecords(blob: Uint8Array, count: number, maxEventBytes: number): void {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + RECORD_HEADER_BYTES > blob.byteLength) {
      throw new MalformedRecordsError(`record ${i} of ${count}: blob ends after ${blob.byteLength} bytes`);
    }
    const md = view.getUint32(at, true);
    const data = view.getUint32(at + 4, true);
    const size = RECORD_HEADER_BYTES + md + data;
    if (size > maxEventBytes) {
      throw new RangeError(`record ${i} is ${size} bytes, above the event limit of ${maxEventBytes} bytes`);
    }
    at += size;
    if (at > blob.byteLength) {
      throw new MalformedRecordsError(`record ${i} of ${count}: its lengths run past the end of the blob`);
    }
  }
  if (at !== blob.byteLength) {
    throw new MalformedRecordsError(`${blob.byteLength - at} bytes follow the last of ${count} records`);
  }
}

/** Byte offset of record `index` inside a blob. */
export function recordOffset(blob: Uint8Array, index: number): number {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 0;
  for (let i = 0; i < index; i++) at += RECORD_HEADER_BYTES + view.getUint32(at, true) + view.getUint32(at + 4, true);
  return at;
}

/** How many leading records of a blob fit in `maxBytes` (at least one). */
export function recordsWithin(blob: Uint8Array, count: number, maxBytes: number): number {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const next = at + RECORD_HEADER_BYTES + view.getUint32(at, true) + view.getUint32(at + 4, true);
    if (next > maxBytes) return Math.max(1, i);
    at = next;
  }
  return count;
}

/** Iterates the records of a blob as views. */
export function* iterateRecords(blob: Uint8Array, count: number): Generator<RecordView> {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const md = view.getUint32(at, true);
    const data = view.getUint32(at + 4, true);
    const start = at + RECORD_HEADER_BYTES;
    yield { metadata: blob.subarray(start, start + md), data: blob.subarray(start + md, start + md + data) };
    at = start + md + data;
  }
}
