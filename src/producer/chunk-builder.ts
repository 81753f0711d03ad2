/**
 * Groups pushed events into chunks: the unit that crosses to a pipeline worker. One
 * Piscina task per chunk, never per event; the data of all events is copied into one
 * arena buffer which is transferred, not cloned.
 */
import type { EventFuture } from "../core/future.js";
import type { ChunkInput } from "../pipeline/chunk.js";
import type { PipelineSpecs } from "../pipeline/contracts.js";
import { dataLength, type DataParts } from "./event-input.js";

export class ChunkBuilder {
  readonly metadata: unknown[] = [];
  readonly partitions: number[] = [];
  keys: (string | undefined)[] | undefined;
  readonly data: DataParts[] = [];
  readonly futures: EventFuture[] = [];
  dataBytes = 0;
  /** When the first event was added (ms since epoch): the start of its push-to-ack latency. */
  firstPushAt = 0;

  get size(): number {
    return this.futures.length;
  }

  add(future: EventFuture, metadata: unknown, data: DataParts, bytes: number, partition: number, key: string | undefined): void {
    if (this.futures.length === 0) this.firstPushAt = Date.now();
    if (key !== undefined && !this.keys) this.keys = new Array(this.futures.length);
    this.futures.push(future);
    this.metadata.push(metadata);
    this.partitions.push(partition);
    this.data.push(data);
    this.keys?.push(key);
    this.dataBytes += bytes;
  }

  /** A new chunk holding only the events whose positions are not in `drop`. */
  without(drop: Set<number>): ChunkBuilder {
    const out = new ChunkBuilder();
    for (let i = 0; i < this.size; i++) {
      if (drop.has(i)) continue;
      const d = this.data[i];
      out.add(this.futures[i]!, this.metadata[i], d, dataLength(d), this.partitions[i]!, this.keys?.[i]);
    }
    return out;
  }

  /** The worker's input, plus the buffers to transfer with it. */
  build(specs: PipelineSpecs, numPartitions: number, maxEventBytes: number): { input: ChunkInput; transfer: ArrayBuffer[] } {
    const n = this.size;
    const arena = new Uint8Array(this.dataBytes);
    const offsets = new Uint32Array(n + 1);
    let at = 0;
    for (let i = 0; i < n; i++) {
      offsets[i] = at;
      const d = this.data[i];
      if (d === undefined) continue;
      if (d instanceof Uint8Array) {
        arena.set(d, at);
        at += d.byteLength;
      } else {
        for (const part of d) {
          arena.set(part, at);
          at += part.byteLength;
        }
      }
    }
    offsets[n] = at;
    const partitions = Int32Array.from(this.partitions);
    return {
      input: {
        specs,
        numPartitions,
        maxEventBytes,
        firstIndex: this.futures[0]?.index ?? 0,
        metadata: this.metadata,
        partitions,
        keys: this.keys,
        data: arena,
        dataOffsets: offsets,
      },
      transfer: [arena.buffer, offsets.buffer, partitions.buffer],
    };
  }
}
