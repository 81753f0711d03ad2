// Kafka-compatible partitioning: the murmur2 selector chooses the partitions the Java
// client and KafkaJS's default partitioner choose.
import { describe, expect, it } from "vitest";
import { Murmur2Selector, murmur2 } from "../dist/src/pipeline/builtins/murmur2-selector.js";
import { normalizeSpec } from "../dist/src/internal.js";

// org.apache.kafka.common.utils.Utils.murmur2 of the UTF-8 bytes of each key (the same
// values KafkaJS's defaultJava partitioner tests were generated with in Java).
const JAVA = { "0": 971027396, "1": -1993445489, "128": -326012175, "2187": -1508407203, "16384": -325739742, "78125": -1654490814, "279936": 1462227128, "823543": -2014198330 };

describe("murmur2 selector", () => {
  it("hashes like Kafka's Utils.murmur2", () => {
    for (const [key, hash] of Object.entries(JAVA)) expect(murmur2(new TextEncoder().encode(key)), key).toBe(hash);
    expect(murmur2(new Uint8Array(0))).toBe(275646681);
  });

  it("picks (hash & 0x7fffffff) % partitions, for keys of every length and any text", () => {
    const s = new Murmur2Selector();
    for (const [key, hash] of Object.entries(JAVA)) {
      for (const n of [1, 3, 7, 64]) expect(s.selectPartitionFor({}, n, key)).toBe((hash & 0x7fffffff) % n);
    }
    for (const key of ["a", "ab", "abc", "abcd", "abcde", "déjà vu", "🙂 key"]) {
      const p = s.selectPartitionFor({}, 10, key);
      expect(p).toBe((murmur2(new TextEncoder().encode(key)) & 0x7fffffff) % 10);
      expect(p).toBeGreaterThanOrEqual(0);
    }
  });

  it("is a built-in selector named murmur2", () => {
    expect(normalizeSpec("partitionSelector", "murmur2").module).toMatch(/murmur2-selector\.js$/);
  });
});
