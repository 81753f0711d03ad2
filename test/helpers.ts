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

/** Reads a whole partition (no follow) and returns each event's ID, metadata (JSON) and data. */
export async function readPartition(url: string, topic: string, partition: number) {
  const { BrokerClient, iterateRecords } = await import("../dist/src/internal.js");
  const client = new BrokerClient(url);
  const events: { id: number; metadata: any; data: Uint8Array }[] = [];
  try {
    for await (const res of client.read({ topic, partition, start: "earliest" })) {
      let id = res.firstEventId;
      for (const r of iterateRecords(res.records, res.count)) {
        events.push({ id: id++, metadata: JSON.parse(Buffer.from(r.metadata).toString("utf8")), data: Uint8Array.from(r.data) });
      }
    }
  } finally {
    client.close();
  }
  return events;
}

export const FIXTURES = `${ROOT}/test/fixtures/plugins.mjs`;
