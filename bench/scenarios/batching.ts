/**
 * Scenario 3: batching. Fixed batch sizes {1, 16, 128, 1024} vs Adaptive, with
 * maxNumBatches {1, 2, 8}, at a low offered load (latency) and a saturating one
 * (throughput).
 */
import { BatchSize } from "../../src/index.js";
import { produceRun, smallEvent } from "../lib/produce-run.js";
import type { CaseParams, Scenario } from "../lib/scenario.js";
import { startEmbedded, stopEmbedded, type EmbeddedState } from "../lib/embedded.js";

type State = EmbeddedState;

const SIZES = ["1", "16", "128", "1024", "adaptive"];
const LOW_RATE = 5_000;

export const batching: Scenario<State> = {
  name: "batching",
  title: "Batching: fixed sizes vs Adaptive",
  description:
    `Events/s and push-to-ack latency (p50/p99) for fixed batch sizes and Adaptive, with 1, 2 or 8 batches in flight per partition. ` +
    `"low" offers ${LOW_RATE.toLocaleString("en-US")} events/s (paced every millisecond): latency at rest. "saturating" pushes as fast as ` +
    `backpressure allows: throughput. Inline pipeline, ~100-byte JSON events, 4 partitions, embedded broker. A fixed size holds events ` +
    `until n have arrived, so at low load its latency grows with n; Adaptive sends whenever a slot is free.`,
  cases(quick) {
    const out: CaseParams[] = [];
    for (const load of ["low", "saturating"]) {
      for (const batchSize of SIZES) {
        for (const maxNumBatches of quick ? [2] : [1, 2, 8]) out.push({ load, batchSize, maxNumBatches });
      }
    }
    return out;
  },
  setup: () => startEmbedded("batching"),
  async run(params, state, ctx) {
    const pool = state.driver.makeThreadPool(0);
    const size = params.batchSize === "adaptive" ? BatchSize.Adaptive : Number(params.batchSize);
    const low = params.load === "low";
    const tinyBatches = size !== BatchSize.Adaptive && size < 128;
    const events = low ? (ctx.quick ? 2_000 : 10_000) : ctx.quick ? 20_000 : tinyBatches ? 50_000 : 300_000;
    try {
      const r = await produceRun({
        driver: state.driver,
        topic: { partitions: 4 },
        pool,
        batchSize: size,
        maxNumBatches: Number(params.maxNumBatches),
        events,
        offeredRate: low ? LOW_RATE : undefined,
        sampleEvery: low ? 8 : 64,
        makeEvent: (i) => smallEvent(i),
        onProgress: ctx.progress,
      });
      return { eventsPerSec: r.eventsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, meanBatchEvents: r.meanBatchEvents };
    } finally {
      await pool.close();
    }
  },
  teardown: stopEmbedded,
  tables: [
    {
      title: `Low load (${LOW_RATE.toLocaleString("en-US")} events/s offered): latency`,
      filter: (p) => p.load === "low",
      columns: [
        { key: "batchSize", heading: "batch size" },
        { key: "maxNumBatches", heading: "in flight" },
        { key: "p50Ms", heading: "p50 ms", digits: 2 },
        { key: "p99Ms", heading: "p99 ms", digits: 2 },
        { key: "meanBatchEvents", heading: "mean batch", digits: 1 },
      ],
    },
    {
      title: "Saturating load: throughput",
      filter: (p) => p.load === "saturating",
      columns: [
        { key: "batchSize", heading: "batch size" },
        { key: "maxNumBatches", heading: "in flight" },
        { key: "eventsPerSec", heading: "events/s", spread: true },
        { key: "p50Ms", heading: "p50 ms", digits: 1 },
        { key: "p99Ms", heading: "p99 ms", digits: 1 },
        { key: "meanBatchEvents", heading: "mean batch" },
      ],
    },
  ],
  charts: [
    {
      name: "throughput",
      title: "Saturating load: events/s by batch size",
      spec: (s) => ({
        data: { values: s.filter((c) => c.params.load === "saturating" && c.metrics.eventsPerSec).map((c) => ({ batchSize: String(c.params.batchSize), inFlight: String(c.params.maxNumBatches), eventsPerSec: c.metrics.eventsPerSec!.median })) },
        mark: "bar",
        encoding: {
          x: { field: "batchSize", type: "ordinal", sort: SIZES, title: "batch size" },
          xOffset: { field: "inFlight" },
          y: { field: "eventsPerSec", type: "quantitative", title: "events/s" },
          color: { field: "inFlight", type: "nominal", title: "maxNumBatches" },
        },
      }),
    },
    {
      name: "latency",
      title: "Low load: p50 push-to-ack latency by batch size",
      spec: (s) => ({
        data: { values: s.filter((c) => c.params.load === "low" && c.metrics.p50Ms).map((c) => ({ batchSize: String(c.params.batchSize), inFlight: String(c.params.maxNumBatches), p50Ms: c.metrics.p50Ms!.median })) },
        mark: "bar",
        encoding: {
          x: { field: "batchSize", type: "ordinal", sort: SIZES, title: "batch size" },
          xOffset: { field: "inFlight" },
          y: { field: "p50Ms", type: "quantitative", title: "p50 ms", scale: { type: "symlog" } },
          color: { field: "inFlight", type: "nominal", title: "maxNumBatches" },
        },
      }),
    },
  ],
};
