/** Runs `tributary serve` as a child process on a free loopback port, for benchmarks. */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../src/cli.js", import.meta.url));

export interface BrokerProcess {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export async function spawnBrokerProcess(fsync = "interval"): Promise<BrokerProcess> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tributary-bench-"));
  const child: ChildProcess = spawn(process.execPath, [CLI, "serve", "--dir", dir, "--port", "0", "--fsync", fsync], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (tributary:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`broker exited with ${code}`)));
  });
  return {
    url,
    dir,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
