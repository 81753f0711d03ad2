import type { PartitionSelector } from "../contracts.js";

/**
 * The `round-robin` selector: 0, 1, …, n-1, 0, … Each instance (so each worker thread)
 * keeps its own counter; with chunks of many events the spread stays even without any
 * cross-thread coordination. Takes no config.
 */
export class RoundRobinSelector implements PartitionSelector {
  #next = 0;

  constructor(_config?: unknown) {}

  selectPartitionFor(_metadata: unknown, numPartitions: number): number {
    // Compared rather than taken modulo, so a counter never overflows and a topic
    // re-described with fewer partitions still gets in-range answers.
    if (this.#next >= numPartitions) this.#next = 0;
    return this.#next++;
  }
}

export default RoundRobinSelector;
