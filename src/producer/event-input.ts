/** Checks and normalizes what `push()` receives, on the main thread, without copying. */
import { describeType } from "../core/describe.js";
import type { EventData, PushOptions } from "../core/types.js";

/** Event data as byte views: one view, several views, or none. */
export type DataParts = Uint8Array | Uint8Array[] | undefined;

function asBytes(part: unknown): Uint8Array | undefined {
  if (part instanceof Uint8Array) return part;
  if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
  if (part instanceof ArrayBuffer || part instanceof SharedArrayBuffer) return new Uint8Array(part);
  return undefined;
}

/** Returns the data as byte views, or a string naming what is wrong with it. */
export function normalizeData(data: EventData | undefined): DataParts | string {
  if (data === undefined || data === null) return undefined;
  const single = asBytes(data);
  if (single) return single;
  if (Array.isArray(data)) {
    const parts: Uint8Array[] = new Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const b = asBytes(data[i]);
      if (!b) return `data part ${i} is ${describeType(data[i])}, not an ArrayBuffer or ArrayBufferView`;
      parts[i] = b;
    }
    return parts;
  }
  return `data is ${describeType(data)}, not bytes (Uint8Array, any ArrayBufferView, ArrayBuffer, or an array of them)`;
}

export function dataLength(parts: DataParts): number {
  if (parts === undefined) return 0;
  if (parts instanceof Uint8Array) return parts.byteLength;
  let n = 0;
  for (const p of parts) n += p.byteLength;
  return n;
}

/** Returns a string naming what is wrong with the push options, or undefined. */
export function pushOptionsProblem(options: PushOptions | undefined, numPartitions: number): string | undefined {
  if (!options) return undefined;
  const { partition, key, onDelivery } = options;
  if (onDelivery !== undefined && typeof onDelivery !== "function") return `onDelivery must be a function, got ${describeType(onDelivery)}`;
  if (partition !== undefined && (!Number.isInteger(partition) || partition < 0 || partition >= numPartitions)) {
    return `partition ${String(partition)} is not an integer in [0, ${numPartitions})`;
  }
  if (key !== undefined && typeof key !== "string") return `key must be a string, got ${describeType(key)}`;
  return undefined;
}

export function metadataProblem(metadata: unknown): string | undefined {
  if (metadata === undefined) return "metadata is undefined; pass a JSON-compatible value or a JSON string";
  const t = typeof metadata;
  if (t === "function" || t === "symbol" || t === "bigint") return `metadata is a ${t}, not JSON-compatible`;
  return undefined;
}
