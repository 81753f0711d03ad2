/**
 * Benchmark progress on stderr, two levels deep: the current run (from the scenario's
 * ctx.progress) and the whole scenario.
 *   selftest case 2/2 run 1/5 [####------] 40% | all [#########---] 75% 0:03 ~0:01 left
 * Drawn with the CLI's progress (src/cli/progress.ts, cli-progress underneath): on a
 * terminal the line is redrawn in place and cut to the terminal's width; in a log (CI)
 * only one line per case is written, so the log stays readable.
 */
import { bar, clock, StatusLine } from "../../src/cli/progress.js";
import type { CaseResult, RunProgress } from "./runner.js";
import { fmt, spread } from "./stats.js";

const percent = (fraction: number): string => `${(fraction * 100).toFixed(0)}%`;

/** `a=1 b=x` for case parameters. */
export function paramsLabel(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

/** A compact number: no decimals from 100 up, two below. */
const short = (n: number): string => fmt(n, Math.abs(n) >= 100 || n === 0 ? 0 : 2);

/** Draws {@link RunProgress} updates and per-case result lines on a stream (stderr). */
export class BenchProgress {
  private start = performance.now();
  private current: RunProgress | undefined;
  private readonly line: StatusLine;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.line = new StatusLine(() => this.format(), stream);
  }

  /** Shows the bar (terminal only); redrawn at once at run boundaries, else at the status line's pace. */
  update(p: RunProgress): void {
    // Elapsed time and the estimate are per scenario, like the overall fraction.
    if (this.current?.scenario !== p.scenario) this.start = performance.now();
    this.current = p;
    if (!this.line.tty) return;
    this.line.start();
    if (p.inner === undefined) this.line.redraw();
  }

  /** Writes a line above the bar. */
  log(message: string): void {
    this.line.log(message);
  }

  /** One line per finished case: its medians and spread, or its error. */
  caseDone(c: CaseResult, index: number, count: number): void {
    const head = `  ${c.error === undefined ? "ok  " : "FAIL"} case ${index + 1}/${count} ${paramsLabel(c.params)}`;
    const body =
      c.error !== undefined
        ? `: ${c.error.split("\n")[0]}` // the runner logged the full stack already
        : Object.entries(c.metrics)
            // ± half the relative min–max range: how far the runs strayed from the middle.
            .map(([k, m]) => `  ${k} ${short(m.median)}${m.runs.length > 1 && m.median !== 0 ? ` ±${((spread(m.runs) * 100) / 2).toFixed(1)}%` : ""}`)
            .join("");
    this.log(`${head}${body}  (${(c.elapsedMs / 1000).toFixed(1)} s)`);
  }

  /** Removes the bar; call when the scenario is done. */
  end(): void {
    this.line.stop();
    this.current = undefined;
  }

  private format(): string {
    const p = this.current;
    if (!p) return "";
    const innerFraction = p.inner && p.inner.total > 0 ? p.inner.done / p.inner.total : 0;
    const overall = p.stepsTotal > 0 ? (p.stepsDone + innerFraction) / p.stepsTotal : 1;
    const elapsed = performance.now() - this.start;
    const run = p.run === 0 ? "warm-up" : `run ${p.run}/${p.runs}`;
    const inner = p.inner ? ` ${bar(innerFraction, 12)} ${percent(innerFraction)}` : "";
    // An estimate from the first percent of a run would swing wildly; wait a little.
    const eta = overall > 0.02 ? ` ~${clock((elapsed * (1 - overall)) / overall)} left` : "";
    // The status line cuts it to the terminal's width.
    return `${p.scenario} case ${p.caseIndex + 1}/${p.caseCount} ${run}${inner} | all ${bar(overall, 14)} ${percent(overall)} ${clock(elapsed)}${eta}`;
  }
}
