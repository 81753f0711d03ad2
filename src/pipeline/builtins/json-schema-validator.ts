import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { Validator } from "../contracts.js";

/** Config of the `json-schema` validator. */
export interface JsonSchemaValidatorConfig {
  /** JSON Schema (draft-07 / 2019 keywords Ajv 8 supports by default) for the metadata. */
  schema: object | boolean;
}

/**
 * The `json-schema` validator: checks metadata against `config.schema` with Ajv. The
 * schema is compiled once, when the instance is created (once per worker thread), and
 * validation stops at the first error, whose text becomes the rejection reason, e.g.
 * `/energy must be < 100`.
 *
 * Ajv runs in non-strict mode with its logger off: a schema with keywords or formats
 * Ajv does not know is accepted and those parts are not checked, instead of every
 * worker printing warnings.
 */
export class JsonSchemaValidator implements Validator {
  readonly #check: ValidateFunction;

  constructor(config?: unknown) {
    const schema = (config as Partial<JsonSchemaValidatorConfig> | null | undefined)?.schema;
    if (schema === undefined || schema === null || (typeof schema !== "object" && typeof schema !== "boolean")) {
      throw new TypeError('json-schema validator: config must be { schema: <JSON Schema object> }');
    }
    const ajv = new Ajv({ allErrors: false, strict: false, logger: false });
    try {
      this.#check = ajv.compile(schema);
    } catch (err) {
      throw new TypeError(`json-schema validator: invalid schema: ${(err as Error).message}`);
    }
  }

  validate(metadata: unknown, _data: Uint8Array): void {
    if (!this.#check(metadata)) throw new Error(formatError(this.#check.errors?.[0]));
  }
}

function formatError(error: ErrorObject | undefined): string {
  if (!error) return "metadata does not match the schema";
  return `${error.instancePath || "(root)"} ${error.message ?? `fails "${error.keyword}"`}`;
}

export default JsonSchemaValidator;
