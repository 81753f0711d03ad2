/**
 * The benchmark runner's command line (`npm run bench`).
 *
 *   node dist/bench/run.js [--scenario NAME[,NAME]] [--quick] [--runs N] [--json] [--out DIR] [--list]
 *
 * Writes bench/results/<scenario>-<UTC timestamp>.json (every run's metrics),
 * bench/results/<scenario>.md and bench/results/<scenario>-<chart>.svg; with --out DIR
 * also the SVGs and one summary.md of all scenarios to DIR. Human output goes to stderr;
 * stdout carries only the --json document (or the --list names). Exit code: 0 when every
 * case passed, 1 when one failed, 2 on a usage error.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { renderChart } from "./lib/charts.js";
import { describeMachine, type MachineInfo } from "./lib/machine.js";
import { BenchProgress } from "./lib/progress.js";
import { runMarkdown, type RenderedChart, type ScenarioReport } from "./lib/report.js";
import { failed, runScenario, succeeded, type ScenarioResult } from "./lib/runner.js";
import type { Scenario } from "./lib/scenario.js";
import { scenarios } from "./scenarios/index.js";

const USAGE = "usage: npm run bench -- [--scenario NAME[,NAME]] [--quick] [--runs N] [--json] [--out DIR] [--list]";
/** dist/bench/run.js → <repo>/bench/results, whatever the current directory. */
const RESULTS = fileURLToPath(new URL("../../bench/results/", import.meta.url));

class UsageError extends Error {}

interface CliOptions {
  selected: Scenario[];
  quick: boolean;
  runs?: number;
  json: boolean;
  out?: string;
  list: boolean;
}

function parseCli(argv: string[]): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        scenario: { type: "string" },
        quick: { type: "boolean", default: false },
        runs: { type: "string" },
        json: { type: "boolean", default: false },
        out: { type: "string" },
        list: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help) throw new UsageError("");
  let runs: number | undefined;
  if (values.runs !== undefined) {
    runs = Number(values.runs);
    if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a positive integer, got "${values.runs}"`);
  }
  return {
    selected: values.scenario === undefined ? scenarios : selectScenarios(values.scenario),
    quick: values.quick,
    runs,
    json: values.json,
    out: values.out === undefined ? undefined : path.resolve(values.out),
    list: values.list,
  };
}

/** Scenarios named in a comma list, in the order given. */
function selectScenarios(list: string): Scenario[] {
  const names = list.split(",").map((n) => n.trim()).filter((n) => n !== "");
  const unknown = names.filter((n) => !scenarios.some((s) => s.name === n));
  if (unknown.length > 0 || names.length === 0) {
    const valid = scenarios.map((s) => s.name).join(", ");
    throw new UsageError(`unknown scenario ${unknown.map((n) => `"${n}"`).join(", ") || "(none given)"}; valid names: ${valid}`);
  }
  return names.map((n) => scenarios.find((s) => s.name === n)!);
}

/** A path for messages: relative when under the current directory. */
const shown = (file: string): string => {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith("..") ? file : rel;
};

/** 2024-05-01T12:34:56.789Z → 20240501T123456Z: sortable and safe in file names. */
const stamp = (iso: string): string => iso.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");

/** A chart rendered once, to be written to one or more directories. */
interface ChartOutput {
  name: string;
  title: string;
  svg?: string;
  error?: string;
}

async function renderCharts(scenario: Scenario, result: ScenarioResult): Promise<ChartOutput[]> {
  const summaries = succeeded(result);
  const out: ChartOutput[] = [];
  for (const chart of scenario.charts ?? []) {
    // Every case failed: that failure is already reported, an empty chart adds nothing.
    if (summaries.length === 0) continue;
    const base = { name: chart.name, title: chart.title };
    try {
      out.push({ ...base, svg: await renderChart(chart, summaries) });
    } catch (e) {
      out.push({ ...base, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

/** Writes the rendered charts' SVGs to `dir`; returns where each went (or its error). */
function writeCharts(dir: string, scenario: Scenario, charts: ChartOutput[]): RenderedChart[] {
  return charts.map(({ name, title, svg, error }) => {
    if (svg === undefined) return { name, title, error };
    const file = path.join(dir, `${scenario.name}-${name}.svg`);
    fs.writeFileSync(file, svg);
    return { name, title, file };
  });
}

/** The --json document: medians and ranges per case, for CI regression checks. */
function jsonDocument(machine: MachineInfo, runs: Array<{ result: ScenarioResult; charts: ChartOutput[] }>): unknown {
  return {
    machine,
    scenarios: runs.map(({ result, charts }) => {
      const chartErrors = charts.filter((c) => c.error !== undefined).map((c) => `chart ${c.name} failed: ${c.error}`);
      const errors = [...(result.error === undefined ? [] : [result.error]), ...chartErrors];
      return {
        name: result.name,
        title: result.title,
        quick: result.quick,
        runs: result.runs,
        ...(errors.length > 0 ? { error: errors.join("; ") } : {}),
        cases: result.cases.map((c) => ({
          params: c.params,
          metrics: Object.fromEntries(Object.entries(c.metrics).map(([k, m]) => [k, { median: m.median, min: m.min, max: m.max }])),
          ...(c.error !== undefined ? { error: c.error } : {}),
        })),
      };
    }),
  };
}

async function main(): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) console.error(`bench: ${e.message}`);
    console.error(USAGE);
    return 2;
  }
  if (options.list) {
    process.stdout.write(scenarios.map((s) => `${s.name}\t${s.title}\n`).join(""));
    return 0;
  }
  // Scenario code may console.log; with --json that would corrupt the document on stdout.
  if (options.json) console.log = console.info = console.debug = console.error;

  const machine = describeMachine();
  const progress = new BenchProgress();
  fs.mkdirSync(RESULTS, { recursive: true });
  if (options.out !== undefined) fs.mkdirSync(options.out, { recursive: true });

  const done: Array<{ result: ScenarioResult; charts: ChartOutput[] }> = [];
  const outReports: ScenarioReport[] = [];
  for (const scenario of options.selected) {
    progress.log(`${scenario.name}: ${scenario.title}`);
    const result = await runScenario(scenario, {
      quick: options.quick,
      runs: options.runs,
      machine,
      onProgress: (p) => progress.update(p),
      onCaseDone: (c, i, n) => progress.caseDone(c, i, n),
      log: (m) => progress.log(m),
    });
    progress.end();
    if (result.error !== undefined) progress.log(`  FAIL ${scenario.name}: ${result.error}`);
    const charts = await renderCharts(scenario, result);
    for (const c of charts) if (c.error !== undefined) progress.log(`  FAIL chart ${c.name}: ${c.error}`);
    done.push({ result, charts });

    const jsonFile = path.join(RESULTS, `${scenario.name}-${stamp(result.startedAt)}.json`);
    const rendered = writeCharts(RESULTS, scenario, charts);
    const chartsForJson = rendered.map((c) => ({ ...c, file: c.file && path.basename(c.file) }));
    fs.writeFileSync(jsonFile, `${JSON.stringify({ ...result, charts: chartsForJson }, null, 2)}\n`);
    const mdFile = path.join(RESULTS, `${scenario.name}.md`);
    fs.writeFileSync(mdFile, runMarkdown(machine, [{ scenario, result, charts: rendered }], { dir: RESULTS }));
    progress.log(`  wrote ${shown(jsonFile)}, ${shown(mdFile)}`);

    if (options.out !== undefined) outReports.push({ scenario, result, charts: writeCharts(options.out, scenario, charts) });
  }
  if (options.out !== undefined) {
    const summary = path.join(options.out, "summary.md");
    fs.writeFileSync(summary, runMarkdown(machine, outReports, { dir: options.out }));
    progress.log(`wrote ${shown(summary)}`);
  }

  const anyFailed = done.some(({ result, charts }) => failed(result) || charts.some((c) => c.error !== undefined));
  if (anyFailed) progress.log("bench: some cases failed (see above)");
  if (options.json) {
    const doc = `${JSON.stringify(jsonDocument(machine, done), null, 2)}\n`;
    await new Promise<void>((resolve) => process.stdout.write(doc, () => resolve()));
  }
  return anyFailed ? 1 : 0;
}

// Exit explicitly: a scenario that leaks a handle (timer, socket) must not hang CI.
main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
