import type { Serializer } from "../contracts.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Slab that short JSON texts are encoded into; one allocation serves hundreds of events. */
const SLAB_BYTES = 64 * 1024;
/** Texts whose worst-case UTF-8 size exceeds this get their own exactly-sized buffer. */
const MAX_SLAB_TEXT_BYTES = 4 * 1024;

/**
 * The `json` serializer (the default): UTF-8 JSON text. Takes no config.
 *
 * `serialize` returns views into a slab it fills front to back and replaces when full,
 * never rewriting bytes it handed out: about twice as fast as `TextEncoder.encode` per
 * event, at the cost of a view keeping its 64 KiB slab alive while it is referenced
 * (the pipeline copies it into the record blob at once).
 */
export class JsonSerializer implements Serializer {
  #slab = new Uint8Array(SLAB_BYTES);
  #used = 0;

  constructor(_config?: unknown) {}

  serialize(metadata: unknown): Uint8Array {
    const text = this.serializeToString(metadata);
    const worstCase = text.length * 3;
    if (worstCase > MAX_SLAB_TEXT_BYTES) return encoder.encode(text);
    if (SLAB_BYTES - this.#used < worstCase) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#used = 0;
    }
    const start = this.#used;
    const { written } = encoder.encodeInto(text, start === 0 ? this.#slab : this.#slab.subarray(start));
    this.#used = start + written;
    return this.#slab.subarray(start, this.#used);
  }

  /** The JSON text; the pipeline encodes it straight into the batch. */
  serializeToString(metadata: unknown): string {
    const text = JSON.stringify(metadata);
    // undefined, functions and symbols have no JSON text; storing "" would only fail
    // later, in every consumer.
    if (text === undefined) throw new Error(`metadata of type ${typeof metadata} has no JSON representation`);
    return text;
  }

  deserialize(bytes: Uint8Array): unknown {
    return JSON.parse(decoder.decode(bytes));
  }
}

export default JsonSerializer;
