import { Packr, Unpackr } from "msgpackr";
import type { Serializer } from "../contracts.js";

/**
 * The `binary` serializer: standard MessagePack (via msgpackr), so each event decodes on
 * its own and with any MessagePack library. msgpackr's record extension is off because
 * it would make events depend on structures shared outside the event. Round-trips every
 * JSON value, except that msgpackr renames an object key `__proto__` to `__proto_` as a
 * guard against prototype pollution. Takes no config.
 */
export class BinarySerializer implements Serializer {
  readonly #packr = new Packr({ useRecords: false, variableMapSize: true });
  readonly #unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

  constructor(_config?: unknown) {}

  serialize(metadata: unknown): Uint8Array {
    // The result is a view into msgpackr's working buffer; later calls append after it
    // rather than overwrite it, and the pipeline copies it into the record blob anyway.
    return this.#packr.pack(metadata);
  }

  deserialize(bytes: Uint8Array): unknown {
    return this.#unpackr.unpack(bytes);
  }
}

export default BinarySerializer;
