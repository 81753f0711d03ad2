/**
 * Per-event cost budget of each thread of a producing process (`npm run bench:budget`).
 *
 * Each case runs in a child process under `--cpu-prof`, which writes one CPU profile per
 * thread (main, pipeline workers, transport, embedded broker). Only the samples inside the
 * measured window count (after a warm-up); a thread's busy time is every sample that is not
 * `(idle)`, garbage collection on that thread included. The profiler samples wall time: on
 * a machine shared with other work, a thread that is runnable but not running counts as
 * busy, so read these on a quiet machine. Beside them, CPU time from /proc: the main
 * thread's, and the whole process's (which also has V8's and libuv's own threads:
 * concurrent GC, the fs pool). The profiler's sampling adds a few percent.
 *
 *   npm run bench:budget [-- --events 1000000] [--case small-inline-flush] [--top 6]
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { Driver } from "../src/index.js";
import { COST_VALIDATOR } from "./plugins/cost-validator.js";
import { smallEvent } from "./lib/produce-run.js";
import { cpuSeconds } from "./lib/thread-cpu.js";

interface Case {
  /** Pipeline placement: makeThreadPool(threads). */
  threads: number | "auto";
  /** How outcomes are observed: one flush (backpressure loop), or every future awaited. */
  mode: "flush" | "awaited";
  /** Pure-JS validator cost per event, µs. */
  costUs: number;
  description: string;
}

const CASES: Record<string, Case> = {
  "small-inline-flush": { threads: 0, mode: "flush", costUs: 0, description: "~100-byte JSON events, inline pipeline, backpressure loop and one flush" },
  "small-inline-awaited": { threads: 0, mode: "awaited", costUs: 0, description: "the same, every future awaited (Promise.all over windows of 20,000)" },
  "small-pool2-flush": { threads: 2, mode: "flush", costUs: 0, description: "~100-byte JSON events on a pool of 2 workers, backpressure loop and one flush" },
  "cost10-pool2-flush": { threads: 2, mode: "flush", costUs: 10, description: "a 10 µs pure-JS validator on a pool of 2 workers, backpressure loop and one flush" },
};

const WINDOW = 20_000;

/** The child: produce `events` events after a warm-up, print the window's clock and CPU. */
async function child(name: string, events: number): Promise<void> {
  const c = CASES[name]!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tributary-budget-"));
  const driver = await Driver.embedded({ dir });
  try {
    await driver.createTopic("budget", { partitions: 4, ...(c.costUs > 0 ? { validator: COST_VALIDATOR } : {}) });
    const pool = driver.makeThreadPool(c.threads);
    const producer = (await driver.openTopic("budget")).producer({ threadPool: pool });
    await producer.ready();
    const run = async (n: number, offset: number) => {
      if (c.mode === "awaited") {
        let window: PromiseLike<unknown>[] = [];
        for (let i = 0; i < n; i++) {
          window.push(producer.push(smallEvent(offset + i, c.costUs)));
          if (window.length === WINDOW) (await Promise.all(window), (window = []));
        }
        await Promise.all(window);
      } else {
        for (let i = 0; i < n; i++) {
          producer.push(smallEvent(offset + i, c.costUs));
          if (!producer.hasCapacity) await producer.ready();
        }
        await producer.flush();
      }
    };
    await run(Math.max(20_000, events / 5), 0); // warm-up: JIT, auto placement's probe
    const cpu0 = cpuSeconds();
    const t0 = process.hrtime.bigint();
    await run(events, events);
    const t1 = process.hrtime.bigint();
    const cpu1 = cpuSeconds();
    const stats = await producer.stats();
    process.stdout.write(
      JSON.stringify({
        startUs: Number(t0 / 1000n),
        endUs: Number(t1 / 1000n),
        processCpuS: cpu1.process - cpu0.process,
        mainCpuS: cpu1.main - cpu0.main,
        placement: pool.placementOf((await driver.openTopic("budget")).pipeline),
        meanBatchEvents: stats.meanBatchEvents,
      }) + "\n",
    );
    await producer.close();
    await pool.close();
  } finally {
    await driver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function and busy time of one thread's profile, counting samples in [startUs, endUs]. */
function readProfile(file: string, startUs: number, endUs: number) {
  const p = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const urls = new Set<string>();
  let t = p.startTime;
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0; // a sample's time runs to the next sample
    t += p.timeDeltas[i] ?? 0;
    if (t < startUs || t > endUs) continue;
    const node = byId.get(p.samples[i]!)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (url) urls.add(url);
    if (functionName === "(idle)") continue;
    busy += dt;
    const where = url ? `${url.split("/").slice(-2).join("/")}:${lineNumber + 1}` : "";
    const key = `${functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  return { busy, self, urls };
}

/** Which of tributary's threads a profile belongs to, from the code it ran. */
function threadOf(file: string, urls: Set<string>): string {
  if (/\.0\.\d+\.cpuprofile$/.test(file)) return "main";
  const ran = (part: string) => [...urls].some((u) => u.includes(part));
  if (ran("/broker/")) return "broker";
  if (ran("/transport/")) return "transport";
  if (ran("/pipeline/") || ran("piscina")) return "pool worker";
  return "other";
}

function parent(): void {
  const { values } = parseArgs({
    options: {
      events: { type: "string", default: "1000000" },
      case: { type: "string", multiple: true },
      top: { type: "string", default: "5" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(`usage: npm run bench:budget [-- --events N] [--case NAME ...] [--top N]\n\ncases:\n${Object.entries(CASES).map(([k, c]) => `  ${k.padEnd(22)} ${c.description}`).join("\n")}`);
    return;
  }
  const events = Number(values.events);
  const names = values.case ?? Object.keys(CASES);
  for (const name of names) {
    if (!CASES[name]) {
      console.error(`unknown case '${name}'; one of ${Object.keys(CASES).join(", ")}`);
      process.exit(2);
    }
  }
  const self = fileURLToPath(import.meta.url);
  console.log(`# Per-event cost budget per thread (${events.toLocaleString("en-US")} events per case, after a warm-up)\n`);
  for (const name of names) {
    const profDir = fs.mkdtempSync(path.join(os.tmpdir(), "tributary-prof-"));
    try {
      const r = spawnSync(process.execPath, ["--cpu-prof", "--cpu-prof-dir", profDir, self, "--child", name, String(events)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
      if (r.status !== 0) throw new Error(`case ${name} failed (exit ${r.status})`);
      const run = JSON.parse(r.stdout.trim().split("\n").pop()!) as { startUs: number; endUs: number; processCpuS: number; mainCpuS: number; placement: string; meanBatchEvents: number };
      const wallUs = run.endUs - run.startUs;
      const threads = fs
        .readdirSync(profDir)
        .map((f) => path.join(profDir, f))
        .map((f) => ({ file: f, ...readProfile(f, run.startUs, run.endUs) }))
        .map((p) => ({ ...p, thread: threadOf(p.file, p.urls) }))
        .filter((p) => p.busy > 0)
        .sort((a, b) => b.busy - a.busy);
      const perEvent = (us: number) => (us / events).toFixed(2);
      const c = CASES[name]!;
      console.log(`## ${name}: ${c.description}\n`);
      console.log(`${Math.round((events / wallUs) * 1e6).toLocaleString("en-US")} events/s; placement ${run.placement}; ${run.meanBatchEvents.toFixed(0)} events per batch; CPU from /proc: main thread ${perEvent(run.mainCpuS * 1e6)} µs/event, whole process ${perEvent(run.processCpuS * 1e6)} µs/event\n`);
      console.log("| thread | busy µs/event | busy share of wall time | where the time goes (self time, share of the thread's busy time) |");
      console.log("|---|---:|---:|---|");
      for (const p of threads) {
        const top = [...p.self]
          .sort((a, b) => b[1] - a[1])
          .slice(0, Number(values.top))
          .map(([k, v]) => `${k.replaceAll("|", "\\|")} ${((v / p.busy) * 100).toFixed(0)}%`)
          .join("; ");
        console.log(`| ${p.thread} | ${perEvent(p.busy)} | ${((p.busy / wallUs) * 100).toFixed(0)}% | ${top} |`);
      }
      console.log("");
    } finally {
      fs.rmSync(profDir, { recursive: true, force: true });
    }
  }
}

const childAt = process.argv.indexOf("--child");
if (childAt >= 0) await child(process.argv[childAt + 1]!, Number(process.argv[childAt + 2]));
else parent();
