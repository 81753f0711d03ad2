/**
 * Which driver serves a URL: the scheme picks a driver module of this package, loaded by
 * `import()` only when used (the JetStream client is not loaded by a tributary user, and
 * the other way round).
 */
import { InvalidArgumentError } from "../core/errors.js";
import type { DriverConnectOptions, DriverModule, LogDriver } from "./contract.js";

/** URL scheme → driver module (relative to this file) and the URL form it takes. */
const DRIVERS: Readonly<Record<string, { module: string; form: string }>> = {
  "tributary:": { module: "./tributary/index.js", form: "tributary://host:port" },
  "tributarys:": { module: "./tributary/index.js", form: "tributarys://host:port (TLS)" },
  "nats:": { module: "./jetstream/index.js", form: "nats://host:port[,host:port…]" },
};

/** The URL forms `connect` understands, for error messages and docs. */
export const DRIVER_SCHEMES: readonly string[] = Object.values(DRIVERS).map((d) => d.form);

/**
 * The scheme of `url`; a bare `host:port` means the tributary broker (what earlier
 * versions accepted).
 */
export function schemeOf(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(url);
  return m ? m[1]!.toLowerCase() : "tributary:";
}

/** Connects the driver registered for the URL's scheme. */
export async function connectDriver(url: string, options: DriverConnectOptions & Record<string, unknown> = {}): Promise<LogDriver> {
  if (typeof url !== "string" || url.trim() === "") throw new InvalidArgumentError(`log URL must be a non-empty string, got ${JSON.stringify(url)}`);
  const scheme = schemeOf(url);
  const entry = Object.hasOwn(DRIVERS, scheme) ? DRIVERS[scheme] : undefined;
  if (entry === undefined) {
    throw new InvalidArgumentError(`no driver for '${scheme}//' in '${url}': a log URL is one of ${DRIVER_SCHEMES.join(", ")}`);
  }
  const driver = (await import(new URL(entry.module, import.meta.url).href)) as DriverModule;
  return driver.connect(url, options);
}
