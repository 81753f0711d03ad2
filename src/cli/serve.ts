/** `tributary serve`: runs the broker until SIGINT / SIGTERM. */
import fs from "node:fs";
import { loadAuthFile } from "../broker/auth.js";
import { startBroker } from "../broker/server.js";
import type { BrokerLimits, FsyncPolicy } from "../broker/limits.js";
import { UsageError } from "./usage.js";

export interface ServeOptions {
  dir?: string;
  port: number;
  host: string;
  fsync: FsyncPolicy;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  auth?: string;
  insecure?: boolean;
  limit?: [keyof BrokerLimits, number][];
  metricsPort?: number;
}

function readPem(flag: string, file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read ${file}: ${(err as Error).message}`);
  }
}

export async function serve(options: ServeOptions): Promise<void> {
  if (!options.dir) throw new UsageError("serve needs --dir DATA");
  const [cert, key, ca] = [readPem("tls-cert", options.tlsCert), readPem("tls-key", options.tlsKey), readPem("tls-ca", options.tlsCa)];
  if (!cert !== !key) throw new UsageError("--tls-cert and --tls-key go together");
  if (ca && !cert) throw new UsageError("--tls-ca (client certificates) needs --tls-cert and --tls-key");
  let auth;
  try {
    auth = options.auth ? loadAuthFile(options.auth) : undefined;
  } catch (err) {
    throw new UsageError(`--auth: ${(err as Error).message}`);
  }
  const broker = await startBroker({
    dir: options.dir,
    port: options.port,
    host: options.host,
    fsync: options.fsync,
    tls: cert && key ? { cert, key, ca } : undefined,
    auth,
    insecure: options.insecure ?? false,
    limits: Object.fromEntries(options.limit ?? []),
    metricsPort: options.metricsPort,
  });
  const security = [cert ? (ca ? "TLS with client certificates" : "TLS") : "plaintext", auth ? `${auth.tokens.length} tokens` : "no tokens"].join(", ");
  console.log(`tributary broker listening on ${broker.url} (data ${options.dir}, fsync ${options.fsync}, ${security})`);
  if (broker.metricsUrl) console.log(`metrics on ${broker.metricsUrl}`);
  const stop = (signal: string): void => {
    console.log(`${signal}: closing`);
    broker.close().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`tributary: closing the broker failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}
