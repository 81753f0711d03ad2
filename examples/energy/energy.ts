/**
 * The Diaspora "energy" topic: events carry `{ energy }`, an integer in [0, maxEnergy).
 * Events are validated by range, routed to partitions by energy bins and stored as a
 * single byte. A topic references these classes by module and export, e.g.
 * `validator: "EnergyValidator:./dist/examples/energy/energy.js"`.
 */
import type { PartitionSelector, Serializer, Validator } from "tributary";

/** Config shared by the three plugins (all optional). */
export interface EnergyConfig {
  /** Exclusive upper bound of `energy`; 100 by default, at most 256 (one byte). */
  maxEnergy?: number;
}

function maxEnergyOf(config: unknown): number {
  const max = (config as EnergyConfig | null | undefined)?.maxEnergy ?? 100;
  if (!Number.isInteger(max) || max < 1 || max > 256) {
    throw new TypeError(`maxEnergy must be an integer in [1, 256], got ${JSON.stringify(max)}`);
  }
  return max;
}

/** Accepts metadata whose `energy` is an integer with 0 <= energy < maxEnergy. */
export class EnergyValidator implements Validator {
  readonly #max: number;

  constructor(config?: EnergyConfig) {
    this.#max = maxEnergyOf(config);
  }

  validate(metadata: unknown, _data: Uint8Array): void {
    if (typeof metadata !== "object" || metadata === null) {
      throw new Error(`metadata must be an object with an "energy" field, got ${JSON.stringify(metadata)}`);
    }
    const energy = (metadata as { energy?: unknown }).energy;
    if (typeof energy !== "number" || !Number.isInteger(energy) || energy < 0 || energy >= this.#max) {
      throw new Error(`energy must be an integer in [0, ${this.#max}), got ${JSON.stringify(energy) ?? "undefined"}`);
    }
  }
}

/** Energy bins: partition = floor(energy * numPartitions / maxEnergy). Expects validated metadata. */
export class EnergyPartitionSelector implements PartitionSelector {
  readonly #max: number;

  constructor(config?: EnergyConfig) {
    this.#max = maxEnergyOf(config);
  }

  selectPartitionFor(metadata: unknown, numPartitions: number): number {
    return Math.floor(((metadata as { energy: number }).energy * numPartitions) / this.#max);
  }
}

/** One byte per event: the energy value. */
export class EnergySerializer implements Serializer {
  constructor(_config?: EnergyConfig) {}

  serialize(metadata: unknown): Uint8Array {
    const energy = (metadata as { energy: number }).energy;
    if (!Number.isInteger(energy) || energy < 0 || energy > 255) throw new Error(`energy ${energy} does not fit in one byte`);
    return Uint8Array.of(energy);
  }

  deserialize(bytes: Uint8Array): { energy: number } {
    if (bytes.byteLength !== 1) throw new Error(`an energy record is 1 byte, got ${bytes.byteLength}`);
    return { energy: bytes[0]! };
  }
}
