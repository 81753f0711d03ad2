/**
 * Benchmark progress on stderr, in the style of src/cli/progress.ts but two levels deep:
 * the current run (from the scenario's ctx.progress) and the whole scenario.
 *   selftest case 2/2 run 1/5 [####------] 40% | all [#########---] 75% 0:03 ~0:01 left
 * On a terminal the line is redrawn in place; in a log (CI) only one line per case is
 * written, so the log stays readable.
 */
import type { CaseResult, RunProgress } from "./runner.js";
import { fmt, spread } from "./stats.js";

const bar = (fraction: number, width: number): string => {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
};
const percent = (fraction: number): string => `${(fraction * 100).toFixed(0)}%`;

/** m:ss, or h:mm:ss for long runs. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor(s / 60) % 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm.padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

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
  private readonly tty: boolean;
  private start = performance.now();
  private lastDraw = 0;
  private shown = false;
  private current: RunProgress | undefined;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = stream.isTTY === true;
  }

  /** Redraws the bar (terminal only), at most every 100 ms except at run boundaries. */
  update(p: RunProgress): void {
    const boundary = p.inner === undefined;
    // Elapsed time and the estimate are per scenario, like the overall fraction.
    if (this.current?.scenario !== p.scenario) this.start = performance.now();
    this.current = p;
    if (!this.tty) return;
    const now = performance.now();
    if (!boundary && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.draw(p, now);
  }

  /** Writes a line above the bar. */
  log(message: string): void {
    this.clear();
    this.stream.write(`${message}\n`);
    if (this.current && this.tty) this.draw(this.current, performance.now());
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
    this.clear();
    this.current = undefined;
  }

  private draw(p: RunProgress, now: number): void {
    const innerFraction = p.inner && p.inner.total > 0 ? p.inner.done / p.inner.total : 0;
    const overall = p.stepsTotal > 0 ? (p.stepsDone + innerFraction) / p.stepsTotal : 1;
    const elapsed = now - this.start;
    const run = p.run === 0 ? "warm-up" : `run ${p.run}/${p.runs}`;
    const inner = p.inner ? ` ${bar(innerFraction, 10)} ${percent(innerFraction)}` : "";
    // An estimate from the first percent of a run would swing wildly; wait a little.
    const eta = overall > 0.02 ? ` ~${clock((elapsed * (1 - overall)) / overall)} left` : "";
    let line = `${p.scenario} case ${p.caseIndex + 1}/${p.caseCount} ${run}${inner} | all ${bar(overall, 12)} ${percent(overall)} ${clock(elapsed)}${eta}`;
    // A wrapped line cannot be redrawn with \r: cut it to the terminal width.
    const columns = this.stream.columns ?? 120;
    if (line.length >= columns) line = line.slice(0, columns - 1);
    this.stream.write(`\r\x1b[K${line}`);
    this.shown = true;
  }

  private clear(): void {
    if (this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}
