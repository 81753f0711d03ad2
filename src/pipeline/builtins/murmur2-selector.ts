import type { PartitionSelector } from "../contracts.js";

const encoder = new TextEncoder();
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`) of `data`, as a signed
 * 32-bit integer: the hash the Java client and KafkaJS's default partitioner use.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The 1 to 3 trailing bytes, as the Java switch with fall-through mixes them.
  const tail = length & 3;
  if (tail >= 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The `murmur2` selector: `(murmur2(UTF-8 key) & 0x7fffffff) % numPartitions`, the
 * partition the Kafka Java client and KafkaJS's default partitioner choose for a key, so
 * tributary and Kafka producers of the same keys agree. Events pushed without a key hash
 * `JSON.stringify(metadata)` instead. Takes no config.
 */
export class Murmur2Selector implements PartitionSelector {
  constructor(_config?: unknown) {}

  selectPartitionFor(metadata: unknown, numPartitions: number, key?: string): number {
    return (murmur2(encoder.encode(key ?? JSON.stringify(metadata) ?? "")) & 0x7fffffff) % numPartitions;
  }
}

export default Murmur2Selector;
