/** Starts a local `nats-server -js` (Debian package nats-server) on a free loopback port. */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface NatsServer {
  url: string;
  stop(): Promise<void>;
}

export async function startNatsServer(): Promise<NatsServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tributary-nats-"));
  let child: ChildProcess;
  try {
    child = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", "-1", "-sd", dir], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    throw new Error(`cannot start nats-server (apt-get install nats-server): ${(err as Error).message}`);
  }
  const url = await new Promise<string>((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`nats-server did not start within 10 s: ${log}`)), 10_000);
    const onData = (d: Buffer) => {
      log += d.toString();
      const m = /Listening for client connections on (\S+:\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(`nats://${m[1]}`);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start nats-server (is the Debian package nats-server installed?): ${err.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited with ${code}: ${log}`));
    });
  });
  return {
    url,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
