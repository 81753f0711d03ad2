/**
 * Scenario 1, the headline: what strict order costs. Strict vs Loose × threads
 * {inline, 1, 2, 4, auto} × per-event pipeline cost {≈0, 10 µs, 50 µs} × cost shape
 * {uniform, heavy-tailed: 1% of events cost 100x}.
 */
import { COST_VALIDATOR } from "../plugins/cost-validator.js";
import { produceRun, smallEvent } from "../lib/produce-run.js";
import type { CaseParams, CaseSummary, Scenario } from "../lib/scenario.js";
import { startEmbedded, stopEmbedded, type EmbeddedState } from "../lib/embedded.js";

type State = EmbeddedState;

const THREADS = ["0", "1", "2", "4", "auto"] as const;

/** Events per run: about two seconds of inline work (a fifth, at least 10,000, when quick). */
function eventsFor(costUs: number, shape: string, quick: boolean): number {
  const mean = shape === "heavy" ? costUs * 1.99 : costUs;
  const n = costUs === 0 ? 400_000 : Math.round(2_000_000 / (mean + 2));
  return quick ? Math.max(10_000, Math.round(n / 5)) : n;
}

export const ordering: Scenario<State> = {
  name: "ordering",
  title: "Ordering modes: the price of strict order",
  description:
    "Events/s and push-to-ack latency (p50/p99 of one event in 64) for Strict and Loose ordering, " +
    "with the pipeline inline (threads 0), on 1, 2 or 4 worker threads, or placed automatically (auto), " +
    "for a per-event pipeline cost of about 0, 10 and 50 µs (a validator that spins), spread uniformly or " +
    "heavy-tailed (1% of events cost 100x, so a chunk that holds one finishes late and Strict must hold later chunks back). " +
    "~100-byte JSON events, 4 partitions, adaptive batches, embedded broker. Latency is measured under a saturating load, " +
    "so it mostly shows queueing behind the backpressure limit.",
  cases(quick) {
    const out: CaseParams[] = [];
    for (const costUs of [0, 10, 50]) {
      for (const shape of costUs === 0 ? ["uniform"] : ["uniform", "heavy"]) {
        for (const threads of quick ? (["0", "2", "auto"] as const) : THREADS) {
          for (const ordering of ["strict", "loose"]) out.push({ costUs, shape, threads, ordering });
        }
      }
    }
    return out;
  },
  setup: () => startEmbedded("ordering"),
  async run(params, state, ctx) {
    const costUs = Number(params.costUs);
    const heavy = params.shape === "heavy";
    const threads = params.threads === "auto" ? "auto" : Number(params.threads);
    const pool = state.driver.makeThreadPool(threads);
    try {
      const r = await produceRun({
        driver: state.driver,
        topic: { partitions: 4, validator: costUs > 0 ? COST_VALIDATOR : undefined },
        pool,
        ordering: params.ordering as "strict" | "loose",
        events: eventsFor(costUs, String(params.shape), ctx.quick),
        makeEvent: (i) => smallEvent(i, costUs === 0 ? 0 : heavy && i % 100 === 37 ? costUs * 100 : costUs),
        onProgress: ctx.progress,
      });
      if (r.failed > 0) throw new Error(`${r.failed} events failed`);
      return { eventsPerSec: r.eventsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, pooled: r.placement === "pool" ? 1 : 0 };
    } finally {
      await pool.close();
    }
  },
  teardown: stopEmbedded,
  tables: [
    {
      title: "At 2 threads (the headline)",
      filter: (p) => p.threads === "2",
      columns: [
        { key: "costUs", heading: "cost µs" },
        { key: "shape", heading: "shape" },
        { key: "ordering", heading: "ordering" },
        { key: "eventsPerSec", heading: "events/s", spread: true },
        { key: "p50Ms", heading: "p50 ms", digits: 1 },
        { key: "p99Ms", heading: "p99 ms", digits: 1 },
      ],
    },
    {
      title: "All cases",
      columns: [
        { key: "costUs", heading: "cost µs" },
        { key: "shape", heading: "shape" },
        { key: "threads", heading: "threads" },
        { key: "ordering", heading: "ordering" },
        { key: "eventsPerSec", heading: "events/s", spread: true },
        { key: "p50Ms", heading: "p50 ms", digits: 1 },
        { key: "p99Ms", heading: "p99 ms", digits: 1 },
        { key: "pooled", heading: "on pool" },
      ],
    },
  ],
  charts: [
    {
      name: "throughput",
      title: "Events/s by threads, Strict vs Loose",
      spec: (summaries) => ({
        data: { values: rows(summaries) },
        mark: "bar",
        encoding: {
          column: { field: "case", type: "nominal", title: null, header: { labelAngle: 0, labelAlign: "center" } },
          x: { field: "threads", type: "ordinal", title: "threads", sort: [...THREADS] },
          xOffset: { field: "ordering" },
          y: { field: "eventsPerSec", type: "quantitative", title: "events/s" },
          color: { field: "ordering", type: "nominal" },
        },
      }),
    },
    {
      name: "strict-price",
      title: "Strict throughput as a share of Loose",
      spec: (summaries) => ({
        data: { values: strictShare(summaries) },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "threads", type: "ordinal", sort: [...THREADS] },
          y: { field: "share", type: "quantitative", title: "Strict / Loose events/s", scale: { domain: [0, 1.2] } },
          color: { field: "case", type: "nominal", title: "cost, shape" },
        },
      }),
    },
  ],
  notes(summaries) {
    const notes: string[] = [];
    for (const r of strictShare(summaries).filter((r) => r.threads === "2")) {
      notes.push(`At 2 threads, ${r.case}: Strict reaches ${(r.share * 100).toFixed(0)}% of Loose's events/s.`);
    }
    // auto vs the better of inline and 2 threads
    for (const c of new Set(rows(summaries).map((r) => `${r.case}|${r.ordering}`))) {
      const [kase, ord] = c.split("|");
      const of = (t: string) => rows(summaries).find((r) => r.case === kase && r.ordering === ord && r.threads === t)?.eventsPerSec;
      const auto = of("auto");
      const best = Math.max(of("0") ?? 0, of("2") ?? 0);
      if (auto && best) notes.push(`auto, ${kase}, ${ord}: ${((auto / best) * 100).toFixed(0)}% of the better of inline and 2 threads.`);
    }
    return notes;
  },
};

function rows(summaries: CaseSummary[]) {
  return summaries
    .filter((s) => s.metrics.eventsPerSec)
    .map((s) => ({
      case: `${s.params.costUs} µs ${s.params.shape}`,
      threads: String(s.params.threads),
      ordering: String(s.params.ordering),
      eventsPerSec: s.metrics.eventsPerSec!.median,
    }));
}

function strictShare(summaries: CaseSummary[]) {
  const all = rows(summaries);
  return all
    .filter((r) => r.ordering === "strict")
    .flatMap((s) => {
      const loose = all.find((l) => l.ordering === "loose" && l.case === s.case && l.threads === s.threads);
      return loose ? [{ case: s.case, threads: s.threads, share: s.eventsPerSec / loose.eventsPerSec }] : [];
    });
}
