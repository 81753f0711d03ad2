/**
 * Scenario 2: per-event overhead. Tiny events through the default pipeline (accept all,
 * round-robin, JSON) inline, on a pool, and placed automatically, against the raw broker
 * client with batches built by hand: how close the pipeline gets to the wire.
 */
import { produceRun } from "../lib/produce-run.js";
import { rawAppend } from "../lib/raw-append.js";
import type { CaseSummary, Scenario } from "../lib/scenario.js";
import { startEmbedded, stopEmbedded, type EmbeddedState } from "../lib/embedded.js";

type State = EmbeddedState;

const tiny = (i: number) => ({ i, k: "v" });
const small = (i: number) => ({ seq: i, sensor: `sensor-${String(i % 997).padStart(3, "0")}`, energy: (i * 7919) % 1000, unit: "kWh", site: "north-ridge", ts: 1_790_000_000_000 + i });

export const overhead: Scenario<State> = {
  name: "overhead",
  title: "Per-event overhead: the producer vs a raw client",
  description:
    "Events/s for tiny (~20-byte) and small (~100-byte) JSON events with the default pipeline (accept all, round-robin, JSON), " +
    "4 partitions, adaptive batches, embedded broker: the producer inline, on 2 worker threads, and placed automatically, " +
    "against the raw broker client on the main thread alone, which serializes with JSON.stringify and appends hand-built " +
    "batches of 1,024 (4 in flight) with no futures. The raw client pays for gRPC encoding on the main thread; the producer " +
    "pays for futures, chunking and ordering but hands the wire to its transport thread. inline-pushMany is the inline producer " +
    "fed by pushMany over a generator (one ack yielded per event) instead of a push loop.",
  cases: () =>
    ["tiny", "small"].flatMap((size) => ["raw", "inline", "inline-pushMany", "pool-2", "auto"].map((path) => ({ size, path }))),
  setup: () => startEmbedded("overhead"),
  async run(params, state, ctx) {
    const events = ctx.quick ? 50_000 : 500_000;
    const makeEvent = params.size === "tiny" ? tiny : small;
    if (params.path === "raw") {
      const topic = `raw-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      await state.driver.createTopic(topic, { partitions: 4 });
      try {
        return await rawAppend({ url: state.driver.url, topic, partitions: 4, events, batchSize: 1024, window: 4, makeEvent });
      } finally {
        await state.driver.deleteTopic(topic);
      }
    }
    const pool = state.driver.makeThreadPool(String(params.path).startsWith("inline") ? 0 : params.path === "auto" ? "auto" : 2);
    try {
      const bulk = params.path === "inline-pushMany";
      const r = await produceRun({ driver: state.driver, topic: { partitions: 4 }, pool, events, makeEvent, bulk, onProgress: ctx.progress });
      return { eventsPerSec: r.eventsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, meanBatchEvents: r.meanBatchEvents };
    } finally {
      await pool.close();
    }
  },
  teardown: stopEmbedded,
  tables: [
    {
      title: "Events/s",
      columns: [
        { key: "size", heading: "event" },
        { key: "path", heading: "path" },
        { key: "eventsPerSec", heading: "events/s", spread: true },
        { key: "meanBatchEvents", heading: "mean batch" },
      ],
    },
  ],
  charts: [
    {
      name: "events-per-sec",
      title: "Events/s: producer paths vs a raw client on the main thread",
      spec: (s) => ({
        data: { values: s.filter((c) => c.metrics.eventsPerSec).map((c) => ({ size: c.params.size, path: c.params.path, eventsPerSec: c.metrics.eventsPerSec!.median })) },
        mark: "bar",
        encoding: {
          x: { field: "path", type: "nominal", sort: ["raw", "inline", "inline-pushMany", "pool-2", "auto"] },
          xOffset: { field: "size" },
          y: { field: "eventsPerSec", type: "quantitative", title: "events/s" },
          color: { field: "size", type: "nominal" },
        },
      }),
    },
  ],
  notes: (s: CaseSummary[]) =>
    ["tiny", "small"].flatMap((size) => {
      const of = (p: string) => s.find((c) => c.params.size === size && c.params.path === p)?.metrics.eventsPerSec?.median;
      const raw = of("raw");
      if (!raw) return [];
      return [
        ...["inline", "pool-2", "auto"].map((p) => `${size} events, ${p}: ${(((of(p) ?? 0) / raw) * 100).toFixed(0)}% of the raw client's events/s.`),
        `${size} events: pushMany reaches ${(((of("inline-pushMany") ?? 0) / (of("inline") ?? 1)) * 100).toFixed(0)}% of a push loop's events/s (inline).`,
      ];
    }),
};

