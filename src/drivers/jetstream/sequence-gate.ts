/**
 * What a JetStream reader may hand out from one consumer: stream sequences in order, each
 * the one after the last. Around a change of stream leader a consumer without acks can
 * repeat messages or skip some (the server counts what it sent to an earlier, stopped
 * pull as delivered). A repeat is dropped; a skip means the consumer must be re-created at
 * the first missing sequence. Only the first message of a new consumer may lie past the
 * expected sequence: the stream no longer has the ones before it (limits, purge).
 */
export type GateVerdict = "take" | "repeat" | "skip";

export class SequenceGate {
  #next: number | undefined;
  #fresh = true;

  /** `next`: the sequence expected first, or undefined when reading from a time. */
  constructor(next: number | undefined) {
    this.#next = next;
  }

  /** The sequence expected next (undefined before the first message of a time-based read). */
  get next(): number | undefined {
    return this.#next;
  }

  admit(seq: number): GateVerdict {
    if (this.#next !== undefined && seq < this.#next) return "repeat";
    if (this.#next !== undefined && seq > this.#next && !this.#fresh) return "skip";
    this.#fresh = false;
    this.#next = seq + 1;
    return "take";
  }
}
