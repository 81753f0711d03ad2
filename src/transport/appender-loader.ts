/** Builds a driver's appender on the transport thread from its module and export. */
import { InvalidArgumentError } from "../core/errors.js";
import type { Appender, AppenderFactory, AppenderSpec } from "../drivers/contract.js";

export async function loadAppender(spec: AppenderSpec): Promise<Appender> {
  const namespace = (await import(spec.module)) as Record<string, unknown>;
  const factory = namespace[spec.export];
  if (typeof factory !== "function") {
    throw new InvalidArgumentError(`driver module ${spec.module} has no appender factory '${spec.export}'`);
  }
  return (factory as AppenderFactory)(spec.options);
}
