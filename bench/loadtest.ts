/**
 * Load test of the web example (examples/web/server.ts): each endpoint driven by
 * autocannon at several connection counts, in interleaved rounds, medians reported.
 *
 *   npm run loadtest -- [--duration 10] [--rounds 3] [--connections 10,100,400] [--endpoints no-op,awaited]
 *                       [--quick] [--out DIR] [--cpu-prof DIR]
 *
 * The server runs as a child process on a free port with its embedded broker; autocannon
 * runs in this process, on its main thread. Writes <out>/WEB.md (the part below the
 * results marker; the text above it is kept) and <out>/web/*.svg. Default out: docs/ for
 * a full run, bench/results/ for --quick. Exit code 0; 1 when a request failed or the
 * server did not shut down cleanly; 2 on a usage error.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { renderSvg, summaryRows } from "./lib/charts.js";
import { describeMachine, machineMarkdown } from "./lib/machine.js";
import { tableMarkdown } from "./lib/report.js";
import { aggregate, type CaseResult } from "./lib/runner.js";
import type { Metrics } from "./lib/scenario.js";
import { fmt, median } from "./lib/stats.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SERVER = fileURLToPath(new URL("../examples/web/server.js", import.meta.url));
const MARKER = "<!-- generated results below: npm run loadtest -->";

/** The endpoints, in the order of the table; the goal is the least ratio to no-op at 100 connections. */
const ENDPOINTS = [
  { name: "no-op", path: "/noop", goal: undefined },
  { name: "fire-and-forget", path: "/items/fire-and-forget", goal: 0.95 },
  { name: "callback", path: "/items/callback", goal: 0.95 },
  { name: "durable", path: "/items/durable", goal: undefined },
  { name: "awaited", path: "/items", goal: 0.9 },
] as const;
const GOAL_CONNECTIONS = 100;
const USAGE = `usage: npm run loadtest -- [--duration SECONDS] [--rounds N] [--connections 10,100,400] [--endpoints NAME,...]
                        [--quick] [--out DIR] [--cpu-prof DIR]
  --endpoints    a subset of ${ENDPOINTS.map((e) => e.name).join(", ")} (no-op is needed for the ratios)
  --quick        2 s per case, one round; results to bench/results/ unless --out
  --cpu-prof DIR the server runs under node --cpu-prof, its profiles go to DIR`;

class UsageError extends Error {}

type Endpoint = (typeof ENDPOINTS)[number];

interface Options {
  endpoints: Endpoint[];
  durationS: number;
  rounds: number;
  connections: number[];
  quick: boolean;
  out: string;
  cpuProf: string | undefined;
}

function parseCli(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        duration: { type: "string" },
        rounds: { type: "string" },
        connections: { type: "string", default: "10,100,400" },
        endpoints: { type: "string" },
        quick: { type: "boolean", default: false },
        out: { type: "string" },
        "cpu-prof": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) throw new UsageError("");
  const positive = (flag: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer, got "${text}"`);
    return n;
  };
  const names = values.endpoints?.split(",").map((n) => n.trim());
  const unknown = names?.filter((n) => !ENDPOINTS.some((e) => e.name === n)) ?? [];
  if (unknown.length > 0) throw new UsageError(`unknown endpoint ${unknown.join(", ")}; the endpoints are ${ENDPOINTS.map((e) => e.name).join(", ")}`);
  return {
    endpoints: names ? ENDPOINTS.filter((e) => names.includes(e.name)) : [...ENDPOINTS],
    durationS: positive("duration", values.duration ?? (values.quick ? "2" : "10")),
    rounds: positive("rounds", values.rounds ?? (values.quick ? "1" : "3")),
    connections: values.connections.split(",").map((c) => positive("connections", c.trim())),
    quick: values.quick,
    out: path.resolve(values.out ?? path.join(ROOT, values.quick ? "bench/results" : "docs")),
    cpuProf: values["cpu-prof"] && path.resolve(values["cpu-prof"]),
  };
}

interface Server {
  child: ChildProcess;
  url: string;
  output(): string;
}

/** The example server as a child process; resolves once it prints its address. */
async function startServer(cpuProf: string | undefined): Promise<Server> {
  const nodeArgs = cpuProf ? ["--cpu-prof", "--cpu-prof-dir", cpuProf] : [];
  const child = spawn(process.execPath, [...nodeArgs, SERVER, "--port", "0", "--fsync", "interval"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) (clearInterval(timer), resolve(m[1]!));
    }, 20);
    child.once("exit", (code) => (clearInterval(timer), reject(new Error(`server exited with ${code}: ${out}`))));
  });
  return { child, url, output: () => out };
}

/** What the server's /metrics says of its producers, summed over them. */
async function producerTotals(url: string): Promise<{ pending: number; batches: number; batchedEvents: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (name: string) => [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "gm"))].reduce((n, m) => n + Number(m[1]), 0);
  return { pending: sum("tributary_producer_events_pending"), batches: sum("tributary_producer_batch_events_count"), batchedEvents: sum("tributary_producer_batch_events_sum") };
}

/** Waits until the server's producers have no pending event: one case's backlog must not load the next. */
async function drained(url: string): Promise<ReturnType<typeof producerTotals>> {
  for (let i = 0; i < 300; i++) {
    const totals = await producerTotals(url);
    if (totals.pending === 0) return totals;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the server's producers did not drain within 30 s");
}

/** CPU seconds used so far by a process (all its threads) or one of its threads: Linux /proc, NaN elsewhere. */
function cpuSeconds(pid: number, thread?: number): number {
  try {
    const stat = fs.readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, "utf8");
    const fields = stat.split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

/**
 * One autocannon run: successful requests/s, latency percentiles and failures; the CPU
 * time per request of the server (all its threads, and its main thread alone) and of the
 * load generator, which depend much less than requests/s on the rest of the load of a
 * shared machine; and the events per batch the producers sent.
 */
async function drive(server: Server, endpoint: Endpoint, connections: number, durationS: number): Promise<Metrics> {
  const pid = server.child.pid!;
  const before = await producerTotals(server.url);
  const cpu0 = cpuSeconds(pid);
  const main0 = cpuSeconds(pid, pid);
  const own0 = process.cpuUsage();
  const r = await autocannon({
    url: server.url + endpoint.path,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "widget" }),
    connections,
    duration: durationS,
  });
  const own = process.cpuUsage(own0);
  // What fire-and-forget accepted is delivered after the run: its cost counts too.
  const after = await drained(server.url);
  const m: Metrics = {
    rps: r["2xx"] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    serverUs: ((cpuSeconds(pid) - cpu0) * 1e6) / r.requests.total,
    serverMainUs: ((cpuSeconds(pid, pid) - main0) * 1e6) / r.requests.total,
    loadgenUs: (own.user + own.system) / r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
  };
  if (after.batches > before.batches) m.eventsPerBatch = (after.batchedEvents - before.batchedEvents) / (after.batches - before.batches);
  return m;
}

async function main(): Promise<void> {
  const o = parseCli(process.argv.slice(2));
  const machine = describeMachine();
  const loadBefore = os.loadavg();
  const server = await startServer(o.cpuProf);
  /** Per endpoint@connections, one entry per round, in round order. */
  const runs = new Map<string, Metrics[]>();
  const total = o.rounds * o.connections.length * o.endpoints.length;
  let done = 0;
  try {
    // Warm-up: the JIT, the pool's placement probe and the broker's first segments.
    for (const e of o.endpoints) await drive(server, e, 100, o.quick ? 1 : 3);
    // Rounds interleave the cases, and the endpoint order rotates, so that a slow minute
    // on a shared machine does not land on one endpoint only.
    for (let round = 0; round < o.rounds; round++) {
      for (const connections of o.connections) {
        for (let k = 0; k < o.endpoints.length; k++) {
          const e = o.endpoints[(k + round) % o.endpoints.length]!;
          const m = await drive(server, e, connections, o.durationS);
          const key = `${e.name}@${connections}`;
          runs.set(key, [...(runs.get(key) ?? []), m]);
          done++;
          console.error(`[${done}/${total}] round ${round + 1} ${e.name} c=${connections}: ${fmt(m.rps!)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, CPU/request: server ${fmt(m.serverUs!)} µs (main thread ${fmt(m.serverMainUs!)}), autocannon ${fmt(m.loadgenUs!)} µs${m.non2xx || m.errors ? `, ${m.non2xx} non-2xx, ${m.errors} errors` : ""}`);
        }
      }
    }
  } finally {
    await stopServer(server.child);
  }
  const shutdown = /SIGTERM: shut down.*/.exec(server.output())?.[0] ?? `no shutdown line; server output:\n${server.output()}`;
  console.error(`server ${shutdown}`);

  const cases: CaseResult[] = [];
  for (const c of o.connections) {
    for (const e of ENDPOINTS) {
      const r = runs.get(`${e.name}@${c}`);
      if (r) cases.push({ params: { endpoint: e.name, connections: c }, metrics: aggregate(r), elapsedMs: 0 });
    }
  }
  const dir = path.join(o.out, "web");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "throughput.svg"), await renderSvg(throughputChart(cases)));
  fs.writeFileSync(path.join(dir, "latency.svg"), await renderSvg(latencyChart(cases)));
  const command = `npm run loadtest${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const generated = resultsMarkdown(cases, o, { machine: machineMarkdown(machine), loadBefore, loadAfter: os.loadavg(), command, shutdown });
  const doc = path.join(o.out, "WEB.md");
  const previous = fs.existsSync(doc) ? fs.readFileSync(doc, "utf8") : `# Web service load test\n\n${MARKER}\n`;
  const at = previous.indexOf(MARKER);
  fs.writeFileSync(doc, `${at < 0 ? `${previous.trimEnd()}\n\n${MARKER}` : previous.slice(0, at + MARKER.length)}\n\n${generated}`);
  console.error(`wrote ${path.relative(process.cwd(), doc)} and ${path.relative(process.cwd(), dir)}/{throughput,latency}.svg`);
  if (cases.some((c) => (c.metrics.non2xx?.max ?? 0) > 0 || (c.metrics.errors?.max ?? 0) > 0)) process.exitCode = 1;
}

/** SIGTERM, as an orchestrator would: the server must drain and exit 0. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const code = await exited;
  if (code !== 0) throw new Error(`server exited with ${code} on SIGTERM`);
}

const caseOf = (cases: CaseResult[], endpoint: string, connections: number) =>
  cases.find((c) => c.params.endpoint === endpoint && c.params.connections === connections);

/**
 * The endpoint's requests/s over no-op's in the same round, median over the rounds: the
 * two ran a minute apart at most, so a slow minute of a shared machine mostly cancels out.
 */
function rpsRatio(cases: CaseResult[], endpoint: string, connections: number): number | undefined {
  const base = caseOf(cases, "no-op", connections)?.metrics.rps?.runs;
  const value = caseOf(cases, endpoint, connections)?.metrics.rps?.runs;
  if (!base || !value || base.length !== value.length) return undefined;
  return median(value.map((v, round) => v / base[round]!));
}

/** No-op's CPU per request over the endpoint's (medians): main thread, or the server's and the load generator's together. */
function costRatio(cases: CaseResult[], endpoint: string, connections: number, what: "main" | "all"): number | undefined {
  const cost = (name: string) => {
    const m = caseOf(cases, name, connections)?.metrics;
    if (!m?.serverUs || !m.serverMainUs || !m.loadgenUs) return undefined;
    return what === "main" ? m.serverMainUs.median : m.serverUs.median + m.loadgenUs.median;
  };
  const base = cost("no-op");
  const value = cost(endpoint);
  return base && value ? base / value : undefined;
}

const times = (r: number | undefined): string => (r === undefined ? "n/a" : `${r.toFixed(2)}x`);

function resultsMarkdown(
  cases: CaseResult[],
  o: Options,
  run: { machine: string; loadBefore: number[]; loadAfter: number[]; command: string; shutdown: string },
): string {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(", ");
  const out = [
    "## Results",
    "",
    `Command: \`${run.command}\` (${o.rounds} interleaved round${o.rounds > 1 ? "s" : ""} of ${o.durationS} s per case after a warm-up; medians, "a (b–c)" is median (min–max) over the rounds).`,
    "",
    run.machine,
    `- Load average (1, 5, 15 min) before: ${load(run.loadBefore)}; after: ${load(run.loadAfter)}`,
    "",
    "### Requests per second and latency",
    "",
    tableMarkdown(
      {
        title: "",
        columns: [
          { key: "endpoint", heading: "endpoint" },
          { key: "connections", heading: "connections" },
          { key: "rps", heading: "requests/s", spread: true },
          { key: "p50", heading: "p50 ms", digits: 0 },
          { key: "p99", heading: "p99 ms", digits: 0 },
          { key: "serverUs", heading: "server CPU µs/req" },
          { key: "serverMainUs", heading: "of which main thread" },
          { key: "loadgenUs", heading: "autocannon CPU µs/req" },
          { key: "eventsPerBatch", heading: "events/batch", digits: 1 },
          { key: "non2xx", heading: "non-2xx" },
          { key: "errors", heading: "errors" },
        ],
      },
      cases,
    ),
    "",
    "### Ratio to no-op: requests/s",
    "",
    "Per round, the endpoint's requests/s over no-op's at the same connection count; median over the rounds.",
    "",
    `| endpoint | ${o.connections.map((c) => `${c} connections`).join(" | ")} | goal at ${GOAL_CONNECTIONS} |`,
    `|:---|${o.connections.map(() => "---:").join("|")}|:---|`,
  ];
  const endpoints = o.endpoints.filter((e) => e.name !== "no-op");
  for (const e of endpoints) {
    const at = rpsRatio(cases, e.name, GOAL_CONNECTIONS);
    const goal = e.goal === undefined ? "none" : at === undefined ? `≥ ${e.goal}` : `≥ ${e.goal}: ${at >= e.goal ? "met" : "**missed**"}`;
    out.push(`| ${e.name} | ${o.connections.map((c) => times(rpsRatio(cases, e.name, c))).join(" | ")} | ${goal} |`);
  }
  out.push(
    "",
    "### Ratio to no-op: CPU per request",
    "",
    "No-op's CPU time per request over the endpoint's. *Server + autocannon*: the requests/s ratio the two cores would give if nothing else ran on them. *Main thread*: the ratio of a server whose main thread is the bottleneck, with cores to spare for its other threads and the load generator.",
    "",
    `| endpoint | ${o.connections.map((c) => `${c}: server + autocannon | ${c}: main thread`).join(" | ")} |`,
    `|:---|${o.connections.map(() => "---:|---:").join("|")}|`,
  );
  for (const e of endpoints) {
    out.push(`| ${e.name} | ${o.connections.map((c) => `${times(costRatio(cases, e.name, c, "all"))} | ${times(costRatio(cases, e.name, c, "main"))}`).join(" | ")} |`);
  }
  out.push("", `Server on SIGTERM after the run: ${run.shutdown}`, "", "![Requests per second](web/throughput.svg)", "", "![Latency](web/latency.svg)", "");
  return out.join("\n");
}

const endpointOrder = ENDPOINTS.map((e) => e.name);

function throughputChart(cases: CaseResult[]): Record<string, unknown> {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: { text: "Requests per second by endpoint", subtitle: "median over the rounds; higher is better" },
    data: { values: summaryRows(cases) },
    width: 560,
    mark: "bar",
    encoding: {
      x: { field: "connections", type: "ordinal", title: "connections" },
      xOffset: { field: "endpoint", type: "nominal", sort: endpointOrder },
      y: { field: "rps", type: "quantitative", title: "requests/s" },
      color: { field: "endpoint", type: "nominal", sort: endpointOrder, title: "endpoint" },
    },
  };
}

function latencyChart(cases: CaseResult[]): Record<string, unknown> {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: { text: "Latency by endpoint", subtitle: "median over the rounds (autocannon measures whole milliseconds); symlog scale, lower is better" },
    data: { values: summaryRows(cases) },
    transform: [{ fold: ["p50", "p99"], as: ["percentile", "ms"] }],
    width: 280,
    height: 280,
    mark: { type: "line", point: true },
    encoding: {
      column: { field: "percentile", type: "nominal", title: null },
      x: { field: "connections", type: "ordinal", title: "connections" },
      y: { field: "ms", type: "quantitative", scale: { type: "symlog" }, title: "latency (ms)" },
      color: { field: "endpoint", type: "nominal", sort: endpointOrder, title: "endpoint" },
    },
  };
}

main().catch((err: Error) => {
  if (err instanceof UsageError) {
    if (err.message) console.error(`loadtest: ${err.message}\n${USAGE}`);
    else console.log(USAGE);
    process.exitCode = err.message ? 2 : 0;
  } else {
    console.error(`loadtest: ${err.message}`);
    process.exitCode = 1;
  }
});
