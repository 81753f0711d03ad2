/** Shared helpers of the CLI commands. */

/** Wrong command line: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

export const DEFAULT_BROKER_URL = "tributary://127.0.0.1:9292";

export function brokerUrl(flag: string | undefined): string {
  return flag ?? process.env.TRIBUTARY_BROKER ?? DEFAULT_BROKER_URL;
}

/** Parses a non-negative integer flag, naming the flag when it is not one. */
export function intFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}
