/**
 * The record blob: how a batch's events travel on the wire and lie on disk.
 *
 * A blob is `count` records back to back. A record is
 *
 *   [u32 LE metadataLength | EXTENDED][u32 LE dataLength]
 *   ( [u32 LE extLength][ext] )   only when the EXTENDED bit (2^31) is set
 *   [metadata bytes][data bytes]
 *
 * and `ext`, the event's key and headers:
 *
 *   [u8 flags: 1 = key, 2 = headers]
 *   ( [u16 LE keyLength][key UTF-8] )
 *   ( [u16 LE headerCount] ( [u16 LE nameLength][name UTF-8][u32 LE valueLength][value UTF-8] )* )
 *
 * A record without key or headers has no `ext` and is what earlier versions wrote, so
 * old logs read as they are. The broker stores a blob as it arrives; it only walks the
 * length prefixes to check sizes and to find an offset inside a batch, never decoding
 * an event.
 */
import { TributaryError } from "./errors.js";

/** Bytes of the per-record length prefix. */
export const RECORD_HEADER_BYTES = 8;
/** Bit of the metadata length that says an `ext` block follows the prefix. */
const EXTENDED = 0x8000_0000;
const HAS_KEY = 1;
const HAS_HEADERS = 2;

/** An event's headers: names and values, both strings. */
export type EventHeaders = Readonly<Record<string, string>>;

/** One decoded record; `metadata` and `data` are views into the blob, not copies. */
export interface RecordView {
  metadata: Uint8Array;
  data: Uint8Array;
  key?: string;
  headers?: EventHeaders;
}

const textDecoder = new TextDecoder();

/** Size on the wire of one record (`extBytes`: its key-and-headers block, 0 without). */
export function recordSize(metadataLength: number, dataLength: number, extBytes = 0): number {
  return RECORD_HEADER_BYTES + (extBytes > 0 ? 4 + extBytes : 0) + metadataLength + dataLength;
}

/** Bytes of the `ext` block for a key and headers (0 when there is neither). */
export function extSize(key: string | undefined, headers: EventHeaders | undefined): number {
  if (key === undefined && headers === undefined) return 0;
  let n = 1;
  if (key !== undefined) n += 2 + Buffer.byteLength(key, "utf8");
  if (headers !== undefined) {
    n += 2;
    for (const name in headers) n += 2 + Buffer.byteLength(name, "utf8") + 4 + Buffer.byteLength(headers[name]!, "utf8");
  }
  return n;
}

/**
 * Writes the prefix and `ext` of one record at `offset` of `target` (a Buffer view of the
 * blob); returns where the metadata goes. `extBytes` comes from {@link extSize}.
 */
export function writeRecordHead(
  target: Buffer,
  offset: number,
  metadataLength: number,
  dataLength: number,
  key: string | undefined,
  headers: EventHeaders | undefined,
  extBytes: number,
): number {
  if (extBytes === 0) {
    target.writeUInt32LE(metadataLength, offset);
    target.writeUInt32LE(dataLength, offset + 4);
    return offset + RECORD_HEADER_BYTES;
  }
  target.writeUInt32LE((metadataLength | EXTENDED) >>> 0, offset);
  target.writeUInt32LE(dataLength, offset + 4);
  target.writeUInt32LE(extBytes, offset + 8);
  let at = offset + 12;
  target[at++] = (key !== undefined ? HAS_KEY : 0) | (headers !== undefined ? HAS_HEADERS : 0);
  if (key !== undefined) at = writeString16(target, at, key);
  if (headers !== undefined) {
    const names = Object.keys(headers);
    target.writeUInt16LE(names.length, at);
    at += 2;
    for (const name of names) {
      at = writeString16(target, at, name);
      const value = headers[name]!;
      const n = target.write(value, at + 4, "utf8");
      target.writeUInt32LE(n, at);
      at += 4 + n;
    }
  }
  return at;
}

function writeString16(target: Buffer, at: number, text: string): number {
  const n = target.write(text, at + 2, "utf8");
  target.writeUInt16LE(n, at);
  return at + 2 + n;
}

/** Writes one record at `offset` of `target`; returns the offset after it. */
export function writeRecord(
  target: Uint8Array,
  offset: number,
  metadata: Uint8Array,
  data: Uint8Array | readonly Uint8Array[],
  key?: string,
  headers?: EventHeaders,
): number {
  const buf = Buffer.from(target.buffer, target.byteOffset, target.byteLength);
  const parts = Array.isArray(data) ? (data as readonly Uint8Array[]) : [data as Uint8Array];
  const dataLength = parts.reduce((n, part) => n + part.byteLength, 0);
  let at = writeRecordHead(buf, offset, metadata.byteLength, dataLength, key, headers, extSize(key, headers));
  buf.set(metadata, at);
  at += metadata.byteLength;
  for (const part of parts) {
    buf.set(part, at);
    at += part.byteLength;
  }
  return at;
}

/** Encodes records into a fresh blob (tests, tools and the raw client use this). */
export function encodeRecords(records: readonly { metadata: Uint8Array; data?: Uint8Array; key?: string; headers?: EventHeaders }[]): Uint8Array {
  let size = 0;
  for (const r of records) size += recordSize(r.metadata.byteLength, r.data?.byteLength ?? 0, extSize(r.key, r.headers));
  const out = new Uint8Array(size);
  let at = 0;
  const empty = new Uint8Array(0);
  for (const r of records) at = writeRecord(out, at, r.metadata, r.data ?? empty, r.key, r.headers);
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
 * Total bytes of the record at `at`, from its prefix; -1 when the prefix itself runs past
 * `end`. The lengths are not checked against `end` here.
 */
export function recordLength(view: DataView, at: number, end: number): number {
  if (at + RECORD_HEADER_BYTES > end) return -1;
  const first = view.getUint32(at, true);
  const data = view.getUint32(at + 4, true);
  if ((first & EXTENDED) === 0) return RECORD_HEADER_BYTES + first + data;
  if (at + RECORD_HEADER_BYTES + 4 > end) return -1;
  return RECORD_HEADER_BYTES + 4 + view.getUint32(at + 8, true) + (first & ~EXTENDED) + data;
}

/**
 * Walks the length prefixes of a blob and checks it holds exactly `count` records, none
 * larger than `maxEventBytes`. Returns nothing; throws MalformedRecordsError or
 * EventTooLarge (as a RangeError) naming the offending record.
 */
export function checkRecords(blob: Uint8Array, count: number, maxEventBytes: number): void {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const end = blob.byteLength;
  let at = 0;
  for (let i = 0; i < count; i++) {
    const size = recordLength(view, at, end);
    if (size < 0) throw new MalformedRecordsError(`record ${i} of ${count}: blob ends after ${blob.byteLength} bytes`);
    if (size > maxEventBytes) {
      throw new RangeError(`record ${i} is ${size} bytes, above the event limit of ${maxEventBytes} bytes`);
    }
    at += size;
    if (at > end) {
      throw new MalformedRecordsError(`record ${i} of ${count}: its lengths run past the end of the blob`);
    }
  }
  if (at !== end) {
    throw new MalformedRecordsError(`${blob.byteLength - at} bytes follow the last of ${count} records`);
  }
}

/** True when `bytes` is exactly one well-formed record (a message of another client is not). */
export function isOneRecord(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return recordLength(view, 0, bytes.byteLength) === bytes.byteLength;
}

/** The key and headers of the record at `at` of `blob` (undefined when it has neither). */
export function recordExt(blob: Uint8Array, at: number): { key?: string; headers?: Record<string, string> } | undefined {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if ((view.getUint32(at, true) & EXTENDED) === 0) return undefined;
  const start = at + RECORD_HEADER_BYTES + 4;
  return decodeExt(blob, view, start, start + view.getUint32(at + RECORD_HEADER_BYTES, true));
}

/** Byte offset of record `index` inside a blob. */
export function recordOffset(blob: Uint8Array, index: number): number {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 0;
  for (let i = 0; i < index; i++) at += recordLength(view, at, blob.byteLength);
  return at;
}

/** How many leading records of a blob fit in `maxBytes` (at least one). */
export function recordsWithin(blob: Uint8Array, count: number, maxBytes: number): number {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const next = at + recordLength(view, at, blob.byteLength);
    if (next > maxBytes) return Math.max(1, i);
    at = next;
  }
  return count;
}

/** Iterates the records of a blob as views (key and headers decoded where present). */
export function* iterateRecords(blob: Uint8Array, count: number): Generator<RecordView> {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const first = view.getUint32(at, true);
    const data = view.getUint32(at + 4, true);
    let start = at + RECORD_HEADER_BYTES;
    let md = first;
    let record: RecordView;
    if ((first & EXTENDED) === 0) {
      record = { metadata: blob.subarray(start, start + md), data: blob.subarray(start + md, start + md + data) };
    } else {
      md = first & ~EXTENDED;
      const extBytes = view.getUint32(start, true);
      const ext = decodeExt(blob, view, start + 4, start + 4 + extBytes);
      start += 4 + extBytes;
      record = { metadata: blob.subarray(start, start + md), data: blob.subarray(start + md, start + md + data), ...ext };
    }
    yield record;
    at = start + md + data;
  }
}

/** The key and headers of an `ext` block in [at, end). */
function decodeExt(blob: Uint8Array, view: DataView, at: number, end: number): { key?: string; headers?: Record<string, string> } {
  const out: { key?: string; headers?: Record<string, string> } = {};
  const flags = blob[at++]!;
  const text = (length: number): string => {
    if (at + length > end) throw new MalformedRecordsError("a record's key or headers run past their block");
    const s = textDecoder.decode(blob.subarray(at, at + length));
    at += length;
    return s;
  };
  if (flags & HAS_KEY) {
    const n = view.getUint16(at, true);
    at += 2;
    out.key = text(n);
  }
  if (flags & HAS_HEADERS) {
    const count = view.getUint16(at, true);
    at += 2;
    // A null-prototype object: header names come from the log, `__proto__` included.
    const headers: Record<string, string> = Object.create(null);
    for (let h = 0; h < count; h++) {
      const nameLength = view.getUint16(at, true);
      at += 2;
      const name = text(nameLength);
      const valueLength = view.getUint32(at, true);
      at += 4;
      headers[name] = text(valueLength);
    }
    out.headers = headers;
  }
  return out;
}
