/** Test fixtures: temp dirs, a real broker on port 0, record helpers. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { startBroker, type RunningBroker, type StartBrokerOptions } from "../dist/src/broker/index.js";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const CLI = path.join(ROOT, "dist/src/cli.js");

export function tempDir(prefix = "tributary-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export async function testBroker(dir = tempDir(), options: Partial<StartBrokerOptions> = {}): Promise<RunningBroker & { dir: string }> {
  const broker = await startBroker({ dir, port: 0, host: "127.0.0.1", ...options });
  return Object.assign(broker, { dir });
}

const enc = new TextEncoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);
export const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8");

/** Starts `tributary serve` as a child process and resolves with its URL once it listens. */
export function spawnBroker(dir: string, extra: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, "serve", "--dir", dir, "--port", "0", ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${out}`)), 15_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (tributary:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => reject(new Error(`broker exited with ${code}: ${out}`)));
  });
}
