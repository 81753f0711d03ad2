/** Helpers of the broker suites: batches, reads that must finish, captured logs, child brokers. */
import fs from "node:fs";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { BrokerClient } from "../dist/src/drivers/tributary/broker-client.js";
import { encodeRecords, iterateRecords } from "../dist/src/core/records.js";
import { bytes, ROOT, testBroker, text } from "./helpers.js";

/** `n` records with metadata {"k":"<prefix>-<i>"} and `dataSize` bytes of data each. */
export function batch(prefix: string, n: number, dataSize = 0): Uint8Array {
  return encodeRecords(
    Array.from({ length: n }, (_, i) => ({ metadata: bytes(JSON.stringify({ k: `${prefix}-${i}` })), data: new Uint8Array(dataSize).fill(i % 256) })),
  );
}

/** A broker over `dir` in this process and a client of it; `close()` ends both (to restart on the same directory). */
export async function session(dir: string, options: Parameters<typeof testBroker>[1] = {}) {
  const broker = await testBroker(dir, options);
  const client = new BrokerClient(broker.url);
  return { broker, client, close: async (): Promise<void> => (client.close(), broker.close()) };
}

/** Rejects when `promise` has not settled within `ms`: nothing in these suites may hang. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms))),
  ]);
}

export interface ReadOutcome {
  events: { id: number; metadata: string; data: Uint8Array }[];
  /** The error that ended the read, if any (a BrokerError). */
  error?: { code: string; message: string };
}

/** Reads a partition to its end (no follow); fails the test if that takes longer than `ms`. */
export async function readOutcome(client: BrokerClient, topic: string, partition: number, start: Parameters<BrokerClient["read"]>[0]["start"] = "earliest", ms = 5000): Promise<ReadOutcome> {
  const out: ReadOutcome = { events: [] };
  const stream = client.read({ topic, partition, start });
  const run = (async () => {
    try {
      for await (const res of stream) {
        let id = res.firstEventId;
        for (const r of iterateRecords(res.records, res.count)) out.events.push({ id: id++, metadata: text(r.metadata), data: Uint8Array.from(r.data) });
      }
    } catch (err) {
      out.error = err as { code: string; message: string };
    }
  })();
  try {
    await within(ms, `read of ${topic}/${partition}`, run);
  } finally {
    stream.cancel();
  }
  return out;
}

/** Reads a whole partition, resuming after each CORRUPT range at the offset its message names. */
export async function readAround(client: BrokerClient, topic: string, partition: number, ms = 5000): Promise<{ events: ReadOutcome["events"]; corrupt: string[] }> {
  const events: ReadOutcome["events"] = [];
  const corrupt: string[] = [];
  let start: Parameters<BrokerClient["read"]>[0]["start"] = "earliest";
  for (let round = 0; round < 50; round++) {
    const r = await readOutcome(client, topic, partition, start, ms);
    events.push(...r.events);
    if (!r.error) return { events, corrupt };
    if (r.error.code !== "CORRUPT") throw new Error(`read failed with ${r.error.code}: ${r.error.message}`);
    corrupt.push(r.error.message);
    const resume = /resume at offset (\d+)/.exec(r.error.message);
    if (!resume) throw new Error(`CORRUPT without a resume offset: ${r.error.message}`);
    start = { offset: Number(resume[1]) };
  }
  throw new Error("more than 50 damaged ranges");
}

/** A logger that keeps its lines (and prints nothing). */
export function captureLogger() {
  const lines: string[] = [];
  return { lines, logger: { warn: (m: string) => void lines.push(`warn: ${m}`), info: (m: string) => void lines.push(`info: ${m}`) } };
}

const CHILD = path.join(ROOT, "test/fixtures/broker-child.mjs");

export interface ChildBroker {
  child: ChildProcess;
  url: string;
  /** Resident set size of the broker process, in bytes. */
  rss(): number;
  /** Bytes the process wrote through write(2) and friends (/proc/PID/io wchar). */
  writtenBytes(): number;
  /** SIGTERM, then waits for the exit; SIGKILL if it has not exited within 5 s (a spinning broker). */
  stop(): Promise<void>;
  output(): string;
}

/**
 * Starts a broker in a child process with `startBroker(options)` (options as JSON), and
 * optionally behind a command prefix such as ["prlimit", "--nofile=128:128"]. Ended by its PID only.
 */
export function spawnChildBroker(options: Record<string, unknown>, prefix: string[] = []): Promise<ChildBroker> {
  const argv = [...prefix, process.execPath, CHILD, JSON.stringify(options)];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const proc = (file: string): string => fs.readFileSync(`/proc/${child.pid}/${file}`, "utf8");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child broker did not start: ${out}`)), 15_000);
    child.once("exit", (code) => reject(new Error(`child broker exited with ${code}: ${out}`)));
    child.stdout!.on("data", () => {
      const m = /listening on (tributarys?:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        child,
        url: m[1]!,
        rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(proc("status"))![1]) * 1024,
        writtenBytes: () => Number(/wchar: (\d+)/.exec(proc("io"))![1]),
        output: () => out,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((r) => child.once("exit", r));
          child.kill("SIGTERM");
          const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(kill);
        },
      });
    });
  });
}
