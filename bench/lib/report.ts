/** Markdown summaries of scenario results: tables, charts, notes, failures, reproduction commands. */
import path from "node:path";
import { machineMarkdown, type MachineInfo } from "./machine.js";
import { defaultRuns, type CaseResult, type ScenarioResult } from "./runner.js";
import type { Column, Scenario, TableSpec } from "./scenario.js";
import { fmt } from "./stats.js";

/** A chart of a scenario after rendering: the SVG file, or why there is none. */
export interface RenderedChart {
  name: string;
  title: string;
  /** Path of the SVG file (absolute, or relative to the current directory). */
  file?: string;
  error?: string;
}

/** What one scenario's Markdown section is made of. */
export interface ScenarioReport {
  scenario: Scenario;
  result: ScenarioResult;
  charts: RenderedChart[];
}

/** Options of the Markdown renderers. */
export interface MarkdownOptions {
  /** Directory the Markdown file is written to: chart links are made relative to it. */
  dir: string;
}

/** Escapes what would break a table cell or a line. */
const cell = (text: string): string => text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");

/** Formats one table cell: a case parameter as is, a metric as its median (and range). */
export function formatCell(c: CaseResult, column: Column): string {
  const param = c.params[column.key];
  if (param !== undefined) {
    if (typeof param === "string") return cell(param);
    // Parameters are inputs, not measurements: show them exactly unless digits are set.
    return column.digits === undefined ? param.toLocaleString("en-US", { maximumFractionDigits: 6 }) : fmt(param, column.digits);
  }
  const metric = c.metrics[column.key];
  if (metric === undefined) return c.error === undefined ? "n/a" : "failed";
  const digits = column.digits ?? 0;
  const median = fmt(metric.median, digits);
  return column.spread ? `${median} (${fmt(metric.min, digits)}–${fmt(metric.max, digits)})` : median;
}

/** The command that reproduces a result: quick and a non-default run count included. */
export function reproduceCommand(scenario: Scenario, result: ScenarioResult): string {
  const flags = [`--scenario ${scenario.name}`];
  if (result.quick) flags.push("--quick");
  if (result.runs !== defaultRuns(scenario, result.quick)) flags.push(`--runs ${result.runs}`);
  return `npm run bench -- ${flags.join(" ")}`;
}

/** A Markdown table: one row per case that passes the table's filter. */
export function tableMarkdown(table: TableSpec, cases: CaseResult[]): string {
  const rows = cases.filter((c) => table.filter?.(c.params) ?? true);
  // Right-align columns that hold numbers (metrics, numeric parameters).
  const numeric = table.columns.map((col) => rows.some((c) => typeof c.params[col.key] === "number" || col.key in c.metrics));
  const lines = [
    `| ${table.columns.map((col) => cell(col.heading)).join(" | ")} |`,
    `|${numeric.map((n) => (n ? "---:" : ":---")).join("|")}|`,
    ...rows.map((c) => `| ${table.columns.map((col) => formatCell(c, col)).join(" | ")} |`),
  ];
  return lines.join("\n");
}

const link = (file: string, dir: string): string => path.relative(dir, file).split(path.sep).join("/");

/** A scenario's section: `## title`, description, tables, charts, notes, failures. */
export function scenarioMarkdown(report: ScenarioReport, options: MarkdownOptions): string {
  const { scenario, result, charts } = report;
  const command = reproduceCommand(scenario, result);
  const out: string[] = [`## ${result.title}`, "", result.description, ""];
  const runs = result.runs === 1 ? "one measured run" : `median of ${result.runs} runs`;
  out.push(`_${runs} per case after one warm-up run${result.quick ? ", quick sizes" : ""}; "a (b–c)" is median (min–max)._`, "");
  if (result.error !== undefined) out.push(`> **Scenario failed:** ${cell(result.error)}`, "");

  // With no case run (setup failed) empty tables would only hide the failure line.
  if (result.cases.length === 0) out.push(`Reproduce: \`${command}\``, "");
  else {
    for (const table of scenario.tables) {
      out.push(`### ${table.title}`, "", tableMarkdown(table, result.cases), "", `Reproduce: \`${command}\``, "");
    }
  }
  for (const chart of charts) {
    if (chart.file !== undefined) out.push(`![${cell(chart.title)}](${link(chart.file, options.dir)})`, "");
    else out.push(`> **Chart "${cell(chart.title)}" failed:** ${cell(chart.error ?? "unknown error")}`, "");
  }
  if (result.notes.length > 0) out.push(...result.notes.map((n) => `- ${n}`), "");

  const failedCases = result.cases.filter((c) => c.error !== undefined);
  if (failedCases.length > 0) {
    out.push("**Failed cases:**", "");
    for (const c of failedCases) {
      const params = Object.entries(c.params).map(([k, v]) => `${k}=${v}`).join(", ");
      out.push(`- ${cell(params)}: ${cell(c.error ?? "")}`);
    }
    out.push("");
  }
  return out.join("\n");
}

/** A whole run as one document: the machine first, then every scenario's section. */
export function runMarkdown(machine: MachineInfo, reports: ScenarioReport[], options: MarkdownOptions): string {
  const out = ["# Benchmark results", "", "## Machine", "", machineMarkdown(machine), ""];
  for (const report of reports) out.push(scenarioMarkdown(report, options));
  return `${out.join("\n").trimEnd()}\n`;
}
