/**
 * Runs one scenario: setup, then per case one discarded warm-up run and `runs` measured
 * runs, then teardown. Aggregates every metric to median / min / max and keeps the raw
 * runs. A case that throws is recorded with its error and the other cases still run.
 */
import { describeMachine, type MachineInfo } from "./machine.js";
import type { CaseParams, CaseSummary, Metrics, RunContext, Scenario } from "./scenario.js";
import { median } from "./stats.js";

/** One case as measured: the summary plus what went wrong, if anything. */
export interface CaseResult extends CaseSummary {
  /** Set when a run of the case threw; `metrics` then holds only the runs that finished. */
  error?: string;
  /** Metrics of the discarded warm-up run (for diagnosis only). */
  warmup?: Metrics;
  /** Wall time of the warm-up and the measured runs, in milliseconds. */
  elapsedMs: number;
}

/** Everything one scenario run produced; serialised as-is to bench/results/*.json. */
export interface ScenarioResult {
  name: string;
  title: string;
  description: string;
  machine: MachineInfo;
  /** ISO 8601 (UTC). */
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  /** Measured runs per case (warm-up not included). */
  runs: number;
  cases: CaseResult[];
  /** The scenario's notes, computed from the successful cases. */
  notes: string[];
  /** A failure outside any case: setup, teardown, case list or notes. */
  error?: string;
}

/** Where a scenario run is, for progress bars. */
export interface RunProgress {
  scenario: string;
  /** 0-based index of the current case. */
  caseIndex: number;
  caseCount: number;
  params: CaseParams;
  /** 0 is the warm-up, 1…runs the measured runs. */
  run: number;
  runs: number;
  /** Finished runs (warm-ups included) out of caseCount × (runs + 1). */
  stepsDone: number;
  stepsTotal: number;
  /** The scenario's own progress inside the current run, when it reports one. */
  inner?: { done: number; total: number };
}

/** Options of {@link runScenario}. */
export interface RunOptions {
  /** Small sizes and, unless `runs` is given, a single measured run. */
  quick: boolean;
  /** Measured runs per case; default {@link defaultRuns}. */
  runs?: number;
  /** Called at every run start and whenever the scenario reports progress. */
  onProgress?(progress: RunProgress): void;
  /** Called after each case, failed or not. */
  onCaseDone?(result: CaseResult, index: number, count: number): void;
  /** Human commentary (the scenario's ctx.log, failure stacks). */
  log?(message: string): void;
  /** Shared by all scenarios of one invocation; described afresh when absent. */
  machine?: MachineInfo;
}

/** Measured runs per case when the command line gives none: 1 when quick, else the scenario's default or 5. */
export function defaultRuns(scenario: Pick<Scenario, "defaultRuns">, quick: boolean): number {
  return quick ? 1 : (scenario.defaultRuns ?? 5);
}

/** Median, min, max and the raw values of every metric over a set of runs. */
export function aggregate(runs: Metrics[]): CaseSummary["metrics"] {
  const values = new Map<string, number[]>();
  for (const run of runs) {
    for (const [key, value] of Object.entries(run)) {
      let list = values.get(key);
      if (!list) values.set(key, (list = []));
      list.push(value);
    }
  }
  const out: CaseSummary["metrics"] = {};
  for (const [key, list] of values) {
    out[key] = { median: median(list), min: Math.min(...list), max: Math.max(...list), runs: list };
  }
  return out;
}

/** The cases that finished without error: what charts and notes are computed from. */
export function succeeded(result: ScenarioResult): CaseResult[] {
  return result.cases.filter((c) => c.error === undefined);
}

/** True when a case or the scenario itself failed. */
export function failed(result: ScenarioResult): boolean {
  return result.error !== undefined || result.cases.some((c) => c.error !== undefined);
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function addError(result: ScenarioResult, text: string): void {
  result.error = result.error === undefined ? text : `${result.error}; ${text}`;
}

/** Runs a scenario's cases and aggregates their metrics. Never throws for scenario errors. */
export async function runScenario<State>(scenario: Scenario<State>, options: RunOptions): Promise<ScenarioResult> {
  const { quick } = options;
  const runs = options.runs ?? defaultRuns(scenario, quick);
  const log = (text: string): void => options.log?.(text);
  const result: ScenarioResult = {
    name: scenario.name,
    title: scenario.title,
    description: scenario.description,
    machine: options.machine ?? describeMachine(),
    startedAt: new Date().toISOString(),
    finishedAt: "",
    quick,
    runs,
    cases: [],
    notes: [],
  };
  const finish = (): ScenarioResult => {
    result.finishedAt = new Date().toISOString();
    return result;
  };

  let cases: CaseParams[];
  try {
    cases = scenario.cases(quick);
  } catch (e) {
    addError(result, `cases() failed: ${message(e)}`);
    return finish();
  }

  // The position is mutated as the run advances so that ctx.progress, which the scenario
  // may call at any time, reports against the current case and run.
  const position: RunProgress = {
    scenario: scenario.name,
    caseIndex: 0,
    caseCount: cases.length,
    params: cases[0] ?? {},
    run: 0,
    runs,
    stepsDone: 0,
    stepsTotal: cases.length * (runs + 1),
  };
  const ctx: RunContext = {
    quick,
    progress: (done, total) => options.onProgress?.({ ...position, inner: { done, total } }),
    log,
  };

  let state: State;
  try {
    state = scenario.setup ? await scenario.setup(ctx) : (undefined as State);
  } catch (e) {
    addError(result, `setup failed: ${message(e)}`);
    if (e instanceof Error && e.stack) log(e.stack);
    return finish();
  }

  try {
    for (const [index, params] of cases.entries()) {
      position.caseIndex = index;
      position.params = params;
      const started = performance.now();
      const measured: Metrics[] = [];
      const outcome: CaseResult = { params, metrics: {}, elapsedMs: 0 };
      for (let run = 0; run <= runs; run++) {
        position.run = run;
        options.onProgress?.({ ...position });
        try {
          const metrics = await scenario.run(params, state, ctx);
          if (run === 0) outcome.warmup = metrics;
          else measured.push(metrics);
          position.stepsDone++;
        } catch (e) {
          outcome.error = message(e);
          if (e instanceof Error && e.stack) log(e.stack);
          position.stepsDone += runs + 1 - run; // skip the rest of this case
          break;
        }
      }
      outcome.metrics = aggregate(measured);
      outcome.elapsedMs = performance.now() - started;
      result.cases.push(outcome);
      options.onCaseDone?.(outcome, index, cases.length);
    }
  } finally {
    // Teardown also after an unexpected throw (e.g. from a callback): it stops processes.
    try {
      await scenario.teardown?.(state);
    } catch (e) {
      addError(result, `teardown failed: ${message(e)}`);
    }
  }

  try {
    result.notes = scenario.notes?.(succeeded(result)) ?? [];
  } catch (e) {
    addError(result, `notes() failed: ${message(e)}`);
  }
  return finish();
}
