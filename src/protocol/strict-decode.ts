/**
 * Strict decoding of the requests the broker receives. protobufjs is lenient: bytes it
 * does not recognise are skipped as unknown fields, so a string whose length prefix was
 * damaged decodes as its prefix, and the rest of it as noise (a damaged DeleteTopic for
 * `fz-not` deleted `fz`). Before decoding, one pass over the wire structure checks that
 * every field is known and has its declared wire type, that no singular field or oneof
 * is set twice, that every length stays inside its message, that strings are UTF-8,
 * that varints fit their type (uint64 below 2^53, as the protocol promises) and that
 * doubles are finite. The pass walks tags and lengths only: an Append's record blob is
 * stepped over, never read.
 *
 * Consequence: the broker refuses fields it does not know. A client must not send
 * fields newer than the broker it talks to.
 */
import { isUtf8 } from "node:buffer";
import protobuf from "protobufjs";

/** What a request that failed strict decoding deserializes to: the handler answers INVALID_ARGUMENT. */
export class MalformedMessage {
  constructor(readonly problem: string) {}
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

function wireTypeOf(field: protobuf.Field): number {
  if (field.resolvedType instanceof protobuf.Type) return LENGTH_DELIMITED;
  switch (field.type) {
    case "double":
    case "fixed64":
    case "sfixed64":
      return FIXED64;
    case "float":
    case "fixed32":
    case "sfixed32":
      return FIXED32;
    case "string":
    case "bytes":
      return LENGTH_DELIMITED;
    default:
      return VARINT;
  }
}

/** Reads a varint at `at`; its value as a Number (exact below 2^53, never below the truth above). */
function readVarint(buf: Uint8Array, at: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 10; i++) {
    if (at + i >= end) return undefined;
    const b = buf[at + i]!;
    // The tenth byte may only carry the 64th bit.
    if (i === 9 && b > 1) return undefined;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return { value, next: at + i + 1 };
  }
  return undefined;
}

function varintProblem(field: protobuf.Field, value: number): string | undefined {
  switch (field.type) {
    case "bool":
      return value > 1 ? `bool field ${field.name} has value ${value}` : undefined;
    case "uint32":
      return value > 0xffffffff ? `uint32 field ${field.name} has value ${value}, above 2^32-1` : undefined;
    case "uint64":
      return value > Number.MAX_SAFE_INTEGER ? `uint64 field ${field.name} is above 2^53-1, the protocol's bound` : undefined;
    default:
      return undefined;
  }
}

/** Why `buf[start, end)` is not a well-formed `type`, or undefined. */
function structureProblem(type: protobuf.Type, buf: Uint8Array, start: number, end: number, depth: number): string | undefined {
  if (depth > 8) return "messages nested too deeply";
  const seen = new Set<number>();
  const oneofs = new Map<string, string>();
  let at = start;
  while (at < end) {
    const tag = readVarint(buf, at, end);
    if (!tag) return `truncated field tag at byte ${at}`;
    at = tag.next;
    const id = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    const field = type.fieldsById[id];
    if (!field) return `unknown field number ${id} in ${type.name}`;
    const expected = wireTypeOf(field);
    if (wire !== expected) return `field ${field.name} of ${type.name} has wire type ${wire}, expected ${expected}`;
    if (!field.repeated) {
      if (seen.has(id)) return `field ${field.name} of ${type.name} appears twice`;
      seen.add(id);
    }
    if (field.partOf) {
      const other = oneofs.get(field.partOf.name);
      if (other && other !== field.name) return `${other} and ${field.name} of ${type.name} are both set (one of '${field.partOf.name}')`;
      oneofs.set(field.partOf.name, field.name);
    }
    if (wire === VARINT) {
      const v = readVarint(buf, at, end);
      if (!v) return `field ${field.name} of ${type.name}: truncated or overlong varint`;
      const problem = varintProblem(field, v.value);
      if (problem) return problem;
      at = v.next;
    } else if (wire === FIXED64) {
      if (at + 8 > end) return `field ${field.name} of ${type.name} is truncated`;
      if (field.type === "double" && !Number.isFinite(Buffer.from(buf.buffer, buf.byteOffset + at, 8).readDoubleLE(0))) {
        return `field ${field.name} of ${type.name} is not a finite number`;
      }
      at += 8;
    } else if (wire === FIXED32) {
      if (at + 4 > end) return `field ${field.name} of ${type.name} is truncated`;
      at += 4;
    } else {
      const length = readVarint(buf, at, end);
      if (!length) return `field ${field.name} of ${type.name}: truncated length`;
      at = length.next;
      if (length.value > end - at) return `field ${field.name} of ${type.name} claims ${length.value} bytes; ${end - at} remain`;
      const fieldEnd = at + length.value;
      if (field.resolvedType instanceof protobuf.Type) {
        const problem = structureProblem(field.resolvedType, buf, at, fieldEnd, depth + 1);
        if (problem) return problem;
      } else if (field.type === "string" && !isUtf8(buf.subarray(at, fieldEnd))) {
        return `string field ${field.name} of ${type.name} is not valid UTF-8`;
      }
      at = fieldEnd;
    }
  }
  return undefined;
}

/** Wraps a decoder: well-formed input is decoded by it, anything else becomes a MalformedMessage. */
export function strictDecoder<T>(type: protobuf.Type, decode: (buf: Buffer) => T): (buf: Buffer) => T | MalformedMessage {
  type.resolveAll();
  return (buf) => {
    const problem = structureProblem(type, buf, 0, buf.byteLength, 0);
    if (problem) return new MalformedMessage(`malformed ${type.name}: ${problem}`);
    try {
      return decode(buf);
    } catch (err) {
      return new MalformedMessage(`malformed ${type.name}: ${(err as Error).message}`);
    }
  };
}
