import type { Validator } from "../contracts.js";

/** The `default` validator: accepts every event. Takes no config. */
export class DefaultValidator implements Validator {
  constructor(_config?: unknown) {}

  validate(_metadata: unknown, _data: Uint8Array): void {}
}

export default DefaultValidator;
