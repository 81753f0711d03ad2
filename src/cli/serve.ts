import { parseArgs } from "node:util";
import { startBroker } from "../broker/server.js";
import { FSYNC_POLICIES, type FsyncPolicy } from "../broker/partition-log.js";
import { intFlag, UsageError } from "./usage.js";

/** `tributary serve`: runs the broker until SIGINT / SIGTERM. */
export async function serveCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { dir: { type: "string" }, port: { type: "string" }, host: { type: "string" }, fsync: { type: "string" } },
  });
  if (!values.dir) throw new UsageError("serve needs --dir DATA");
  const fsync = (values.fsync ?? "interval") as FsyncPolicy;
  if (!FSYNC_POLICIES.includes(fsync)) throw new UsageError(`--fsync must be one of ${FSYNC_POLICIES.join(", ")}, got '${values.fsync}'`);
  const broker = await startBroker({ dir: values.dir, port: intFlag("port", values.port, 9292), host: values.host ?? "127.0.0.1", fsync });
  console.log(`tributary broker listening on ${broker.url} (data ${values.dir}, fsync ${fsync})`);
  const stop = (signal: string): void => {
    console.log(`${signal}: closing`);
    broker.close().then(() => process.exit(0), (err) => (console.error(err), process.exit(1)));
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}
