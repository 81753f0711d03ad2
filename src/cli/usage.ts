/** Shared helpers of the CLI commands: usage errors, flag value parsers, client settings. */
import fs from "node:fs";
import { InvalidArgumentError } from "commander";
import { DEFAULT_LIMITS, type BrokerLimits } from "../broker/limits.js";
import type { StartPosition } from "../core/types.js";
import type { TributaryConnectOptions } from "../drivers/tributary/options.js";

/** `topic 't' has 3 partitions (0..2)`, for errors about a partition it does not have. */
export function partitionsOf(topic: string, partitions: number): string {
  return `topic '${topic}' has ${partitions} partition${partitions === 1 ? "" : "s"} (0..${partitions - 1})`;
}

/** Wrong command line found after parsing: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {}

export const DEFAULT_BROKER_URL = "tributary://127.0.0.1:9292";

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

/*
 * Parsers of flag values, for commander's argParser: a bad value becomes a usage error
 * that names the flag and the value ("option '--events <N>' argument '-5' is invalid. …").
 */

/** An integer of at least `min`. */
export const integer =
  (min: number) =>
  (value: string): number => {
    const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`It must be an integer of at least ${min}.`);
    return n;
  };

/** An integer of at least `min`, or "auto". */
export const integerOrAuto =
  (min: number) =>
  (value: string): number | "auto" =>
    value === "auto" ? "auto" : integer(min)(value);

/** For repeatable flags (`--partition 0 --partition 2`): each value parsed and collected. */
export const repeatable =
  <T>(parse: (value: string) => T) =>
  (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(value)];

/** `--limit maxTopics=5000`: the name checked against the broker's limits. */
export function parseLimit(flag: string): [keyof BrokerLimits, number] {
  const m = /^(\w+)=(\d+)$/.exec(flag);
  if (!m || !Object.hasOwn(DEFAULT_LIMITS, m[1]!)) {
    throw new InvalidArgumentError(`It must be NAME=INTEGER with NAME one of ${Object.keys(DEFAULT_LIMITS).join(", ")}.`);
  }
  return [m[1] as keyof BrokerLimits, Number(m[2])];
}

/** `--from earliest|latest|OFFSET|@TIME` (TIME: ms since epoch or an ISO 8601 date). */
export function parseStart(value: string): StartPosition {
  if (value === "earliest" || value === "latest") return value;
  if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return { offset: Number(value) };
  if (value.startsWith("@")) {
    const text = value.slice(1);
    const time = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (Number.isFinite(time) && time >= 0) return { time };
  }
  throw new InvalidArgumentError("It must be earliest, latest, an event ID, or @TIME (ms since epoch or an ISO 8601 date such as @2025-01-31T12:00:00Z).");
}

/** `--validator-config FILE|JSON`: inline JSON (starting with `{`, `[` or `"`), else a JSON file. */
export function parseConfig(value: string): unknown {
  const inline = /^\s*[[{"]/.test(value);
  let text = value;
  if (!inline) {
    try {
      text = fs.readFileSync(value, "utf8");
    } catch (err) {
      throw new InvalidArgumentError(`It is neither inline JSON nor a readable file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${inline ? "It" : `${value}`} is not valid JSON: ${(err as Error).message}.`);
  }
}
