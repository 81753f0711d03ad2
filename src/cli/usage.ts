/** Shared helpers of the CLI commands. */
import fs from "node:fs";
import type { TributaryConnectOptions } from "../drivers/tributary/options.js";

/** Wrong command line: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

export const DEFAULT_BROKER_URL = "tributary://127.0.0.1:9292";

export function brokerUrl(flag: string | undefined): string {
  return flag ?? process.env.TRIBUTARY_BROKER ?? DEFAULT_BROKER_URL;
}

/**
 * Credentials of the client commands, from the environment: $TRIBUTARY_TOKEN (bearer
 * token), $TRIBUTARY_TLS_CA (PEM file of the CA to trust, e.g. a self-signed broker's
 * certificate), $TRIBUTARY_TLS_CERT and $TRIBUTARY_TLS_KEY (client certificate).
 */
export function clientOptions(env: NodeJS.ProcessEnv = process.env): TributaryConnectOptions {
  const pem = (name: string): Buffer | undefined => {
    const file = env[name];
    if (!file) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new UsageError(`$${name}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const [ca, cert, key] = [pem("TRIBUTARY_TLS_CA"), pem("TRIBUTARY_TLS_CERT"), pem("TRIBUTARY_TLS_KEY")];
  return { token: env.TRIBUTARY_TOKEN || undefined, tls: ca || cert || key ? { ca, cert, key } : undefined };
}

/** Parses a non-negative integer flag, naming the flag when it is not one. */
export function intFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}
