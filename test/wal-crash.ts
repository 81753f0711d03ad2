// The crash test of the durable producer, shared by the tributary and JetStream suites.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { Driver } from "../dist/src/index.js";
import { connectDriver, iterateRecords } from "../dist/src/internal.js";
import { removeDir, tempDir } from "./helpers.js";

const CHILD = path.join(import.meta.dirname, "fixtures", "wal-child.mjs");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const walFiles = (d: string) => fs.readdirSync(d).filter((f) => f.endsWith(".wal"));

/**
 * Runs a WAL producer child 20 times on one WAL, SIGKILLing it at random moments, then
 * once more to flush; checks that every event it reported durable is in the log exactly
 * once, in push order per partition (Strict), and that the WAL ends empty.
 */
export async function crashTest(url: string, cleanups: (() => Promise<unknown> | unknown)[]): Promise<void> {
  const dir = (): string => {
    const d = tempDir();
    cleanups.push(() => removeDir(d));
    return d;
  };
  const driver = await Driver.connect(url);
  cleanups.push(() => driver.close());
  await driver.createTopic("crash", { partitions: 3, partitionSelector: "key-hash" });
  const wal = dir();
  const reported = new Set<number>();
  let random = 7;
  const next = () => (random = (random * 48271) % 2147483647) / 2147483647;
  for (let run = 0; run < 20; run++) {
    const child = spawn(process.execPath, [CHILD, url, wal, "crash", String(run * 1_000_000)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const started = new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("ready\n")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`child exited early with ${code}: ${out.slice(-500)}`)));
    });
    await started;
    await sleep(100 + next() * 900);
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    for (const m of out.matchAll(/^d (\d+)$/gm)) reported.add(Number(m[1]));
  }
  expect(reported.size).toBeGreaterThan(1000);
  const finish = spawn(process.execPath, [CHILD, url, wal, "crash", "0", "finish"], { stdio: ["ignore", "pipe", "inherit"] });
  let summary = "";
  finish.stdout!.on("data", (d: Buffer) => (summary += d.toString()));
  expect(await new Promise((r) => finish.once("exit", r))).toBe(0);
  expect(JSON.parse(summary)).toMatchObject({ failed: 0 });

  const seen = new Map<number, number>();
  const log = await connectDriver(url);
  try {
    for (let p = 0; p < 3; p++) {
      const seqs: number[] = [];
      for await (const batch of log.read({ topic: "crash", partition: p, start: "earliest", follow: false })) {
        for (const r of iterateRecords(batch.records, batch.count)) seqs.push(JSON.parse(Buffer.from(r.metadata).toString()).seq);
      }
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]!, `partition ${p} order`).toBeGreaterThan(seqs[i - 1]!);
      for (const s of seqs) seen.set(s, (seen.get(s) ?? 0) + 1);
    }
  } finally {
    await log.close();
  }
  const missing = [...reported].filter((s) => !seen.has(s));
  expect(missing).toEqual([]);
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
  expect(walFiles(path.join(wal, "crash", "crashy"))).toEqual([]);
}
