/**
 * Parallel efficiency: tributary's pool against raw Piscina running the same per-event
 * function over chunks of the same size, side by side in one run. The cost is pure
 * JavaScript (a spinning validator), because node:crypto work scales worse in worker
 * threads than JavaScript does and would measure the engine, not the pipeline.
 */
import { Piscina } from "piscina";
import { COST_VALIDATOR, CostValidator } from "../plugins/cost-validator.js";
import { produceRun, smallEvent } from "../lib/produce-run.js";
import type { CaseParams, CaseSummary, Metrics, Scenario } from "../lib/scenario.js";
import { startEmbedded, stopEmbedded, type EmbeddedState } from "../lib/embedded.js";
import { measureUtilization } from "../lib/utilization.js";

type State = EmbeddedState & { piscina: Piscina };

const CHUNK = 1024;
const THREADS = 2;
const SYSTEMS = ["raw-inline", "raw-piscina-2", "tributary-inline", "tributary-pool-2"] as const;

function eventsFor(costUs: number, quick: boolean): number {
  const n = Math.round(3_000_000 / costUs);
  return quick ? Math.round(n / 5) : n;
}

/** The raw baselines: the same events, cost and serialization, no log. */
async function raw(piscina: Piscina | undefined, costUs: number, events: number): Promise<number> {
  const validator = new CostValidator();
  const encoder = new TextEncoder();
  const start = performance.now();
  if (!piscina) {
    for (let i = 0; i < events; i++) {
      const e = smallEvent(i, costUs);
      validator.validate(e);
      encoder.encode(JSON.stringify(e));
    }
  } else {
    // Enough chunks in flight to keep every worker's queue full, as tributary tries to.
    const inFlight = new Set<Promise<unknown>>();
    for (let from = 0; from < events; from += CHUNK) {
      const chunk = Array.from({ length: Math.min(CHUNK, events - from) }, (_, j) => smallEvent(from + j, costUs));
      const task: Promise<unknown> = piscina.run(chunk).then(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= THREADS * 4) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }
  return events / ((performance.now() - start) / 1000);
}

export const parallel: Scenario<State> = {
  name: "parallel",
  title: "Parallel efficiency: tributary's pool vs raw Piscina",
  description:
    `Events/s for ~100-byte JSON events whose pipeline costs 10 or 50 µs of pure JavaScript per event (a spinning validator), ` +
    `then JSON serialization: raw Piscina on ${THREADS} threads running exactly that over chunks of ${CHUNK} (no log, no futures), ` +
    `the same loop on the main thread (raw-inline), and tributary inline and on a pool of ${THREADS} (4 partitions, Strict, ` +
    `Adaptive, embedded broker, every event acknowledged). busy: event-loop utilization of tributary's threads during the run.`,
  cases(quick) {
    const out: CaseParams[] = [];
    for (const costUs of [10, 50]) for (const system of SYSTEMS) out.push({ costUs, system });
    void quick;
    return out;
  },
  async setup() {
    const piscina = new Piscina({
      filename: new URL("../lib/raw-piscina-worker.js", import.meta.url).href,
      minThreads: THREADS,
      maxThreads: THREADS,
      idleTimeout: Infinity,
    });
    return { ...(await startEmbedded("parallel")), piscina };
  },
  async run(params, state, ctx): Promise<Metrics> {
    const costUs = Number(params.costUs);
    const events = eventsFor(costUs, ctx.quick);
    const system = String(params.system);
    if (system === "raw-inline") return { eventsPerSec: await raw(undefined, costUs, events) };
    if (system === "raw-piscina-2") return { eventsPerSec: await raw(state.piscina, costUs, events) };
    const pool = state.driver.makeThreadPool(system === "tributary-inline" ? 0 : THREADS);
    const util = measureUtilization(state.driver, pool);
    let busy: ReturnType<typeof util.stop> | undefined;
    try {
      const r = await produceRun({
        driver: state.driver,
        topic: { partitions: 4, validator: COST_VALIDATOR },
        pool,
        events,
        makeEvent: (i) => smallEvent(i, costUs),
        onProgress: ctx.progress,
        onFlushed: () => (busy = util.stop()),
      });
      const u = busy!;
      if (r.failed > 0) throw new Error(`${r.failed} events failed`);
      return { eventsPerSec: r.eventsPerSec, mainBusy: u.main, workersBusy: u.workers, transportBusy: u.transport, brokerBusy: u.broker };
    } finally {
      await pool.close();
    }
  },
  async teardown(state) {
    await state.piscina.destroy();
    await stopEmbedded(state);
  },
  tables: [
    {
      title: "Events/s and how busy tributary's threads were",
      columns: [
        { key: "costUs", heading: "cost µs" },
        { key: "system", heading: "system" },
        { key: "eventsPerSec", heading: "events/s", spread: true },
        { key: "mainBusy", heading: "main busy", digits: 2 },
        { key: "workersBusy", heading: "workers busy", digits: 2 },
        { key: "transportBusy", heading: "transport busy", digits: 2 },
        { key: "brokerBusy", heading: "broker busy", digits: 2 },
      ],
    },
  ],
  charts: [
    {
      name: "events-per-sec",
      title: "Events/s: raw Piscina vs tributary",
      spec: (s) => ({
        data: { values: s.map((c) => ({ costUs: `${c.params.costUs} µs`, system: c.params.system, eventsPerSec: c.metrics.eventsPerSec?.median })) },
        mark: "bar",
        encoding: {
          x: { field: "system", type: "nominal", sort: [...SYSTEMS] },
          xOffset: { field: "costUs" },
          y: { field: "eventsPerSec", type: "quantitative", title: "events/s" },
          color: { field: "costUs", type: "nominal" },
        },
      }),
    },
  ],
  notes: (s: CaseSummary[]) =>
    [10, 50].flatMap((costUs) => {
      const of = (system: string) => s.find((c) => Number(c.params.costUs) === costUs && c.params.system === system)?.metrics.eventsPerSec?.median ?? NaN;
      return [
        `${costUs} µs: tributary on ${THREADS} threads reaches ${(of("tributary-pool-2") / of("raw-piscina-2")).toFixed(2)}x raw Piscina (goal ≥ 0.92).`,
        `${costUs} µs: tributary on ${THREADS} threads is ${(of("tributary-pool-2") / of("tributary-inline")).toFixed(2)}x tributary inline` +
          (costUs === 50 ? " (goal ≥ 1.8)." : "."),
        `${costUs} µs: raw Piscina scales ${(of("raw-piscina-2") / of("raw-inline")).toFixed(2)}x over the same loop on one thread.`,
      ];
    }),
};
