/**
 * Benchmark validator for the peers scenario: the JSON Schema check every peer runs,
 * then a fixed spin of `costUs` per event, so tributary's pipeline does exactly the work
 * the nats.js and single-threaded peers do in their loops.
 */
import Ajv from "ajv";
import type { ValidateFunction } from "ajv";

export class SchemaCostValidator {
  private readonly check: ValidateFunction;
  private readonly ms: number;

  constructor(config: { schema: object; costUs?: number }) {
    this.check = new Ajv.default({ allErrors: false }).compile(config.schema);
    this.ms = (config.costUs ?? 0) / 1000;
  }

  validate(metadata: unknown): void {
    if (!this.check(metadata)) throw new Error("invalid event");
    if (this.ms <= 0) return;
    const end = performance.now() + this.ms;
    while (performance.now() < end) {
      // busy, like real per-event work
    }
  }
}

export default SchemaCostValidator;

/** Module specifier of this plugin, for topic specs. */
export const SCHEMA_COST_VALIDATOR_MODULE = new URL(import.meta.url).href;
