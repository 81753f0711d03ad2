import fs from "node:fs";
import { parseArgs } from "node:util";
import { loadAuthFile } from "../broker/auth.js";
import { startBroker } from "../broker/server.js";
import { DEFAULT_LIMITS, FSYNC_POLICIES, STORAGE_DEFAULTS, type BrokerLimits, type FsyncPolicy } from "../broker/limits.js";
import { intFlag, UsageError } from "./usage.js";

/** `--limit maxTopics=5000` (repeatable) into limits; names and values checked. */
function parseLimits(flags: string[] | undefined): Partial<BrokerLimits> {
  const limits: Partial<BrokerLimits> = {};
  for (const flag of flags ?? []) {
    const m = /^(\w+)=(\d+)$/.exec(flag);
    if (!m || !Object.hasOwn(DEFAULT_LIMITS, m[1]!)) {
      throw new UsageError(`--limit takes NAME=INTEGER with NAME one of ${Object.keys(DEFAULT_LIMITS).join(", ")}; got '${flag}'`);
    }
    limits[m[1] as keyof BrokerLimits] = Number(m[2]);
  }
  return limits;
}

function readPem(flag: string, file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/** `tributary serve`: runs the broker until SIGINT / SIGTERM. */
export async function serveCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      fsync: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "tls-ca": { type: "string" },
      auth: { type: "string" },
      insecure: { type: "boolean" },
      limit: { type: "string", multiple: true },
    },
  });
  if (!values.dir) throw new UsageError("serve needs --dir DATA");
  const fsync = (values.fsync ?? STORAGE_DEFAULTS.fsync) as FsyncPolicy;
  if (!FSYNC_POLICIES.includes(fsync)) throw new UsageError(`--fsync must be one of ${FSYNC_POLICIES.join(", ")}, got '${values.fsync}'`);
  const [cert, key, ca] = [readPem("tls-cert", values["tls-cert"]), readPem("tls-key", values["tls-key"]), readPem("tls-ca", values["tls-ca"])];
  if (!cert !== !key) throw new UsageError("--tls-cert and --tls-key go together");
  if (ca && !cert) throw new UsageError("--tls-ca (client certificates) needs --tls-cert and --tls-key");
  let auth;
  try {
    auth = values.auth ? loadAuthFile(values.auth) : undefined;
  } catch (err) {
    throw new UsageError(`--auth: ${(err as Error).message}`);
  }
  const broker = await startBroker({
    dir: values.dir,
    port: intFlag("port", values.port, 9292),
    host: values.host ?? "127.0.0.1",
    fsync,
    tls: cert && key ? { cert, key, ca } : undefined,
    auth,
    insecure: values.insecure ?? false,
    limits: parseLimits(values.limit),
  });
  const security = [cert ? (ca ? "TLS with client certificates" : "TLS") : "plaintext", auth ? `${auth.tokens.length} tokens` : "no tokens"].join(", ");
  console.log(`tributary broker listening on ${broker.url} (data ${values.dir}, fsync ${fsync}, ${security})`);
  const stop = (signal: string): void => {
    console.log(`${signal}: closing`);
    broker.close().then(() => process.exit(0), (err) => (console.error(err), process.exit(1)));
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}
