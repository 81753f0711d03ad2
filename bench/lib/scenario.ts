/**
 * The contract between the benchmark runner (bench/run.ts) and its scenarios
 * (bench/scenarios/*.ts). A scenario lists its cases; the runner warms each case up,
 * repeats it, keeps the median and the spread of every metric, and renders the
 * scenario's tables and charts.
 */

/** Parameters of one case, e.g. { ordering: "strict", threads: 2, costUs: 10 }. */
export type CaseParams = Record<string, string | number>;

/** Metrics of one run of a case, e.g. { eventsPerSec: 512000, p50Ms: 3.1 }. */
export type Metrics = Record<string, number>;

/** What the runner hands to a scenario while it runs. */
export interface RunContext {
  /** Small sizes for a quick look (`--quick`). */
  quick: boolean;
  /** Reports progress inside a long run (drawn as a progress bar). */
  progress(done: number, total: number): void;
  /** A line of commentary (kept out of --json output). */
  log(message: string): void;
}

/** One column of a table: a case parameter or a metric, with its heading and format. */
export interface Column {
  key: string;
  heading: string;
  /** Decimal places for numbers (default 0); metrics show the median. */
  digits?: number;
  /** Show "median (min–max)" instead of the median alone. */
  spread?: boolean;
}

/** A table of the scenario's summary: one row per case (optionally filtered). */
export interface TableSpec {
  title: string;
  columns: Column[];
  filter?: (params: CaseParams) => boolean;
}

/** One aggregated case, as charts and tables receive it. */
export interface CaseSummary {
  params: CaseParams;
  /** Per metric: median, min, max over the measured runs. */
  metrics: Record<string, { median: number; min: number; max: number; runs: number[] }>;
}

/** A chart: a Vega-Lite spec built from the summaries (its data inlined by the scenario). */
export interface ChartSpec {
  /** File name part: bench/results/<scenario>-<name>.svg */
  name: string;
  title: string;
  /** Returns a Vega-Lite (v5) top-level spec. */
  spec(summaries: CaseSummary[]): Record<string, unknown>;
}

export interface Scenario<State = unknown> {
  /** Short id used by --scenario. */
  name: string;
  title: string;
  /** What it measures and why, for the Markdown summary. */
  description: string;
  /** The cases, smaller when quick. */
  cases(quick: boolean): CaseParams[];
  /** Starts what all cases share (broker process, nats-server, …). */
  setup?(ctx: RunContext): Promise<State>;
  /** Runs one case once and returns its metrics. */
  run(params: CaseParams, state: State, ctx: RunContext): Promise<Metrics>;
  teardown?(state: State): Promise<void>;
  tables: TableSpec[];
  charts?: ChartSpec[];
  /** Runs per case when the command line does not say (default 5); warm-up not included. */
  defaultRuns?: number;
  /** Extra text under the tables (ratios, conclusions) computed from the summaries. */
  notes?(summaries: CaseSummary[]): string[];
}
