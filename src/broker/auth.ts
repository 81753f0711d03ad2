/**
 * Bearer tokens with two roles. `produce` may append, read, describe and list topics,
 * and store and claim cursors; `admin` may do everything, including creating and
 * deleting topics. A client sends `authorization: Bearer <token>` as gRPC metadata.
 *
 * Token file (`tributary serve --auth FILE`):
 *   { "tokens": [ { "token": "…", "role": "admin", "name": "ops" },
 *                 { "token": "…", "role": "produce", "name": "ingest" } ] }
 */
import { createHash, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import type { Metadata } from "@grpc/grpc-js";
import { BrokerFailure } from "./failures.js";

export type Role = "produce" | "admin";
export const ROLES: readonly Role[] = ["produce", "admin"];

export interface TokenEntry {
  token: string;
  role: Role;
  /** Who holds it; only for messages. */
  name?: string;
}

export interface AuthConfig {
  tokens: TokenEntry[];
}

/** Tokens shorter than this are refused at start: they could be guessed. */
const MIN_TOKEN_LENGTH = 16;

/** Reads and checks a token file; throws an Error naming the problem. */
export function loadAuthFile(file: string): AuthConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`token file ${file} is unreadable: ${(err as Error).message}`);
  }
  const problem = authConfigProblem(parsed);
  if (problem) throw new Error(`token file ${file}: ${problem}`);
  return parsed as AuthConfig;
}

export function authConfigProblem(config: unknown): string | undefined {
  const tokens = (config as AuthConfig | null)?.tokens;
  if (!Array.isArray(tokens) || tokens.length === 0) return `needs { "tokens": [ { "token": "...", "role": "${ROLES.join('" | "')}" } ] }`;
  for (const [i, t] of tokens.entries()) {
    if (typeof t?.token !== "string" || t.token.length < MIN_TOKEN_LENGTH) return `token ${i} must be a string of at least ${MIN_TOKEN_LENGTH} characters`;
    if (!ROLES.includes(t.role)) return `token ${i} has role '${String(t?.role)}'; roles are ${ROLES.join(", ")}`;
  }
  return undefined;
}

const digest = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest();

export class Authenticator {
  private readonly entries: { digest: Buffer; role: Role; name: string }[];

  constructor(config: AuthConfig) {
    const problem = authConfigProblem(config);
    if (problem) throw new Error(`auth config ${problem}`);
    this.entries = config.tokens.map((t, i) => ({ digest: digest(t.token), role: t.role, name: t.name ?? `token ${i}` }));
  }

  /**
   * Checks the caller's token against the role a call needs. Throws UNAUTHENTICATED
   * (no or unknown token) or PERMISSION_DENIED (role too low).
   */
  authorize(metadata: Metadata, needed: Role, what: string): void {
    const header = metadata.get("authorization")[0];
    const match = typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
    if (!match) throw new BrokerFailure("UNAUTHENTICATED", `${what} needs a token: send 'authorization: Bearer <token>'`);
    // Compare digests of equal length, and compare with every entry: the time taken says
    // nothing about which token, or how much of one, matched.
    const given = digest(match[1]!);
    let found: (typeof this.entries)[number] | undefined;
    for (const entry of this.entries) if (timingSafeEqual(entry.digest, given) && !found) found = entry;
    if (!found) throw new BrokerFailure("UNAUTHENTICATED", `${what}: the token is not valid`);
    if (needed === "admin" && found.role !== "admin") {
      throw new BrokerFailure("PERMISSION_DENIED", `${what} needs the admin role; ${found.name} has role ${found.role}`);
    }
  }
}
