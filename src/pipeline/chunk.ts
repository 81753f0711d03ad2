/**
 * The per-chunk work of the producer pipeline: validate → select partition → serialize
 * every event of a chunk, and pack the survivors into one record blob per partition.
 * Runs inside a pipeline worker (workers/pipeline-worker.ts) or inline on the main
 * thread; it is the one place where per-event cost matters, so the loop avoids
 * closures and allocates only the serialized bytes, a data view per event, and one
 * buffer per partition.
 */
import { describe } from "../core/describe.js";
import { InvalidArgumentError, type PipelineStage } from "../core/errors.js";
import { extSize, RECORD_HEADER_BYTES, writeRecordHead, type EventHeaders } from "../core/records.js";
import type { PipelineSpecs } from "./contracts.js";
import { loadPipeline, type LoadedPipeline } from "./loader.js";
import { uncloneableProblem } from "./metadata-check.js";
import { DefaultValidator } from "./builtins/default-validator.js";
import { JsonSchemaValidator } from "./builtins/json-schema-validator.js";
import { JsonSerializer } from "./builtins/json-serializer.js";

const EMPTY = new Uint8Array(0);

/** Serialized metadata of the chunk being processed; reused by every chunk of this thread. */
let staging: Buffer = Buffer.allocUnsafe(256 * 1024);

function grow(buffer: Buffer, used: number, needed: number): Buffer {
  const bigger = Buffer.allocUnsafe(Math.max(needed, buffer.byteLength * 2));
  buffer.copy(bigger, 0, 0, used);
  return bigger;
}

/** One chunk of pushed events, in push order. Typed arrays may be structured clones. */
export interface ChunkInput {
  /** The topic's normalized pipeline. */
  specs: PipelineSpecs;
  /** Partitions of the topic. */
  numPartitions: number;
  /** Largest record the log accepts (its driver's capability): a bigger event fails alone, at stage "serializer". */
  maxEventBytes: number;
  /** Push index of the first event of the chunk (for error messages). */
  firstIndex: number;
  /** Per event: a JSON-compatible value, or JSON text that is parsed first (stage "input"). */
  metadata: unknown[];
  /** Per event: explicit partition, or -1 to ask the partition selector. */
  partitions: Int32Array;
  /** Per event key, or undefined when no event of the chunk has one. */
  keys: (string | undefined)[] | undefined;
  /** Per event headers, or undefined when no event of the chunk has them. */
  headers?: (EventHeaders | undefined)[] | undefined;
  /** All events' data bytes back to back (may be empty). */
  data: Uint8Array;
  /** Length n+1: event i's data is `data.subarray(dataOffsets[i], dataOffsets[i + 1])`. */
  dataOffsets: Uint32Array;
}

/** The events of one partition, as a record blob (src/core/records.ts), in chunk order. */
export interface ChunkPart {
  partition: number;
  /** Records in `records`. */
  count: number;
  /**
   * The record blob. It owns its ArrayBuffer exactly (`byteOffset` 0, `byteLength` =
   * `buffer.byteLength`), so each part can be transferred on its own — from the worker,
   * and later to the transport thread — without detaching another part.
   */
  records: Uint8Array;
}

/** An event the pipeline rejected. */
export interface ChunkFailure {
  /** Position of the event in the chunk (add `firstIndex` for the push index). */
  index: number;
  stage: PipelineStage;
  reason: string;
}

/** Result of one chunk. */
export interface ChunkOutput {
  /** One per partition that received events, ascending partition. */
  parts: ChunkPart[];
  /** Per event: its partition, or -1 when it failed. Owns its ArrayBuffer too. */
  eventPartition: Int32Array;
  /** Rejected events, ascending index. */
  failures: ChunkFailure[];
}

/**
 * Runs the topic's pipeline (loaded once per thread, see loader.ts) over a chunk.
 * A stage that throws fails only its event; the other events are unaffected.
 * @throws InvalidArgumentError when the pipeline cannot be loaded or the input is inconsistent
 */
export async function processChunk(input: ChunkInput): Promise<ChunkOutput> {
  checkInput(input);
  return processChunkWith(await loadPipeline(input.specs), input);
}

/**
 * {@link processChunk} with an already loaded pipeline (inline mode skips the await).
 * `inline`: the metadata was not structured-cloned on its way here, so events that a
 * clone would have refused are refused here, with the same reason.
 */
export function processChunkWith(pipeline: LoadedPipeline, input: ChunkInput, inline = false): ChunkOutput {
  const { validator, partitionSelector, serializer } = pipeline;
  const { numPartitions, metadata, partitions, keys, headers, data, dataOffsets, maxEventBytes } = input;
  const n = metadata.length;
  const eventPartition = new Int32Array(n).fill(-1);
  const views: Uint8Array[] = new Array(n);
  const mdStart = new Uint32Array(n);
  const mdLength = new Uint32Array(n);
  // Keys and headers are stored with their events; without any, records have no ext block.
  const extLength = keys !== undefined || headers !== undefined ? new Uint32Array(n) : undefined;
  const sizes = new Float64Array(numPartitions);
  const counts = new Int32Array(numPartitions);
  const failures: ChunkFailure[] = [];
  let staged = 0;
  // A text serializer's output is encoded straight into the staging buffer: no buffer per event.
  const toText = typeof serializer.serializeToString === "function";
  // Metadata pushed as JSON text is stored as that text (after it parsed) when nothing can
  // have changed the parsed value: a built-in validator (they never modify it) and the
  // json serializer, which would write the same value again.
  const keepText = serializer instanceof JsonSerializer && (validator instanceof DefaultValidator || validator instanceof JsonSchemaValidator);

  // Pass 1: run the stages, copy each serialized metadata into the staging buffer at once
  // (a serializer may reuse its output buffer), and size each partition's blob.
  for (let i = 0; i < n; i++) {
    let stage: PipelineStage = "input";
    try {
      let md = metadata[i];
      let text: string | undefined;
      if (typeof md === "string") md = parseJson((text = md));
      else if (inline && typeof md === "object" && md !== null) {
        const problem = uncloneableProblem(md);
        if (problem !== undefined) throw new Error(problem);
      }
      stage = "validator";
      const from = dataOffsets[i]!;
      const to = dataOffsets[i + 1]!;
      // Most events carry no data: share one empty view instead of allocating one each.
      const view = from === to ? EMPTY : data.subarray(from, to);
      validator.validate(md, view);
      stage = "partitionSelector";
      let p = partitions[i]!;
      if (p === -1) {
        p = partitionSelector.selectPartitionFor(md, numPartitions, keys?.[i]);
        // `(p | 0) === p` rejects non-numbers, NaN, fractions and values beyond int32.
        if ((p | 0) !== p || p < 0 || p >= numPartitions) {
          throw new Error(`partition selector returned ${describe(p)}, not an integer in [0, ${numPartitions})`);
        }
      } else if (p < 0 || p >= numPartitions) {
        throw new Error(`explicit partition ${p} is out of range: the topic has ${numPartitions} partitions (0..${numPartitions - 1})`);
      }
      stage = "serializer";
      let mdBytes: number;
      if (toText) {
        if (!keepText || text === undefined) text = serializer.serializeToString!(md);
        if (typeof text !== "string") throw new Error(`serializeToString() returned ${describe(text)}, not a string`);
        // At most 3 bytes per UTF-16 unit; the exact count comes from the write itself.
        if (staged + text.length * 3 > staging.byteLength) staging = grow(staging, staged, staged + text.length * 3);
        mdBytes = staging.write(text, staged, "utf8");
      } else {
        const bytes = serializer.serialize(md);
        if (!(bytes instanceof Uint8Array)) throw new Error(`serialize() returned ${describe(bytes)}, not a Uint8Array`);
        mdBytes = bytes.byteLength;
        if (staged + mdBytes > staging.byteLength) staging = grow(staging, staged, staged + mdBytes);
        staging.set(bytes, staged);
      }
      let size = RECORD_HEADER_BYTES + mdBytes + view.byteLength;
      if (extLength !== undefined) {
        const ext = extSize(keys?.[i], headers?.[i]);
        extLength[i] = ext;
        if (ext > 0) size += 4 + ext;
      }
      if (size > maxEventBytes) {
        throw new Error(
          `the event is ${size} bytes (${mdBytes} of metadata, ${view.byteLength} of data), above the broker's limit of ${maxEventBytes} bytes per event`,
        );
      }
      mdStart[i] = staged;
      mdLength[i] = mdBytes;
      staged += mdBytes;
      views[i] = view;
      eventPartition[i] = p;
      counts[p]!++;
      sizes[p]! += size;
    } catch (err) {
      failures.push({ index: i, stage, reason: reasonOf(err) });
    }
  }

  // Pass 2: one exactly-sized buffer per partition, records written in chunk order.
  const parts: ChunkPart[] = [];
  const blobBuffers: Buffer[] = new Array(numPartitions);
  const offsets = new Float64Array(numPartitions);
  for (let p = 0; p < numPartitions; p++) {
    if (counts[p] === 0) continue;
    const records = new Uint8Array(sizes[p]!);
    blobBuffers[p] = Buffer.from(records.buffer, 0, records.byteLength);
    parts.push({ partition: p, count: counts[p]!, records });
  }
  for (let i = 0; i < n; i++) {
    const p = eventPartition[i]!;
    if (p < 0) continue;
    const blob = blobBuffers[p]!;
    const mdBytes = mdLength[i]!;
    const dataBytes = views[i]!.byteLength;
    const ext = extLength?.[i] ?? 0;
    let at = offsets[p]!;
    if (ext === 0) {
      blob.writeUInt32LE(mdBytes, at);
      blob.writeUInt32LE(dataBytes, at + 4);
      at += RECORD_HEADER_BYTES;
    } else at = writeRecordHead(blob, at, mdBytes, dataBytes, keys?.[i], headers?.[i], ext);
    // Buffer#copy copies between buffers without making a view per event.
    staging.copy(blob, at, mdStart[i]!, mdStart[i]! + mdBytes);
    if (dataBytes > 0) blob.set(views[i]!, at + mdBytes);
    offsets[p] = at + mdBytes + dataBytes;
  }
  return { parts, eventPartition, failures };
}

/** The distinct ArrayBuffers of an output, for a zero-copy `postMessage` transfer list. */
export function transferList(output: ChunkOutput): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  addBuffer(buffers, output.eventPartition);
  for (const part of output.parts) addBuffer(buffers, part.records);
  return [...buffers];
}

function addBuffer(into: Set<ArrayBuffer>, view: ArrayBufferView): void {
  // SharedArrayBuffers are shared, not transferred; listing one would throw.
  if (view.buffer instanceof ArrayBuffer) into.add(view.buffer);
}

/** Whole-chunk problems are programming errors of the caller, not event failures. */
function checkInput(input: ChunkInput): void {
  const { numPartitions, metadata, partitions, keys, headers, data, dataOffsets, firstIndex, maxEventBytes } = input;
  const n = metadata?.length;
  const problem =
    !Number.isInteger(numPartitions) || numPartitions < 1 ? `numPartitions ${numPartitions} is not a positive integer`
    : !(maxEventBytes > RECORD_HEADER_BYTES) ? `maxEventBytes ${maxEventBytes} leaves no room for an event`
    : !Array.isArray(metadata) ? "metadata is not an array"
    : partitions?.length !== n ? `partitions has ${partitions?.length} entries for ${n} events`
    : keys !== undefined && keys.length !== n ? `keys has ${keys.length} entries for ${n} events`
    : headers !== undefined && headers.length !== n ? `headers has ${headers.length} entries for ${n} events`
    : dataOffsets?.length !== n + 1 ? `dataOffsets has ${dataOffsets?.length} entries for ${n} events (needs n+1)`
    : dataOffsets[n]! > (data?.byteLength ?? -1) ? `dataOffsets end at ${dataOffsets[n]} past the ${data?.byteLength} data bytes`
    : undefined;
  if (problem !== undefined) throw new InvalidArgumentError(`chunk starting at event #${firstIndex}: ${problem}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`metadata is not valid JSON: ${(err as Error).message}`);
  }
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : typeof err === "string" ? err : describe(err);
  return message || (err instanceof Error ? `${err.name} without a message` : "threw without a reason");
}
