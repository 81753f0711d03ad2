/**
 * The durable producer: throughput with a write-ahead log at each fsync policy against no
 * WAL, side by side, and the latency of `durable()` at a moderate offered load.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { produceRun, smallEvent } from "../lib/produce-run.js";
import type { CaseParams, CaseSummary, Scenario } from "../lib/scenario.js";
import { startEmbedded, stopEmbedded, type EmbeddedState } from "../lib/embedded.js";

type State = EmbeddedState;

const POLICIES = ["none", "never", "interval", "always"] as const;
const RATE = 20_000;
const KIB = new Uint8Array(1024).fill(7);

export const durable: Scenario<State> = {
  name: "durable",
  title: "Durable producer: the write-ahead log's price",
  description:
    "Events/s with the producer's write-ahead log at each fsync policy (never, interval = fdatasync every 100 ms, always = group " +
    "commit) against no WAL, for ~100-byte JSON events and events with 1 KiB of data, inline pipeline, 4 partitions, Adaptive " +
    `batches, embedded broker (fsync interval), WAL on the same disk. "latency" offers ${RATE.toLocaleString("en-US")} events/s and ` +
    "reports when durable() resolved (push to durable; without a WAL that is the ack).",
  cases(quick) {
    const out: CaseParams[] = [];
    for (const size of ["small", "1KiB"]) for (const wal of POLICIES) out.push({ load: "saturating", size, wal });
    for (const wal of quick ? ["none", "always"] : POLICIES) out.push({ load: "latency", size: "small", wal });
    return out;
  },
  setup: () => startEmbedded("durable"),
  async run(params, state, ctx) {
    const pool = state.driver.makeThreadPool(0);
    const walDir = params.wal === "none" ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), "tributary-bench-wal-"));
    const latency = params.load === "latency";
    const big = params.size === "1KiB";
    try {
      const r = await produceRun({
        driver: state.driver,
        topic: { partitions: 4 },
        pool,
        events: latency ? (ctx.quick ? 10_000 : 40_000) : ctx.quick ? 50_000 : big ? 200_000 : 400_000,
        offeredRate: latency ? RATE : undefined,
        sampleEvery: latency ? 16 : 64,
        makeEvent: (i) => smallEvent(i),
        data: big ? KIB : undefined,
        producer: walDir ? { name: `durable-${Date.now()}`, wal: { dir: walDir, fsync: params.wal as "never" | "interval" | "always" } } : {},
        latencyOf: "durable",
        onProgress: ctx.progress,
      });
      if (r.failed > 0) throw new Error(`${r.failed} events failed`);
      return { eventsPerSec: r.eventsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, meanBatchEvents: r.meanBatchEvents };
    } finally {
      await pool.close();
      if (walDir) fs.rmSync(walDir, { recursive: true, force: true });
    }
  },
  teardown: stopEmbedded,
  tables: [
    {
      title: "Throughput",
      filter: (p) => p.load === "saturating",
      columns: [
        { key: "size", heading: "event" },
        { key: "wal", heading: "WAL fsync" },
        { key: "eventsPerSec", heading: "events/s", spread: true },
        { key: "meanBatchEvents", heading: "mean batch" },
      ],
    },
    {
      title: `durable() latency at ${RATE.toLocaleString("en-US")} events/s`,
      filter: (p) => p.load === "latency",
      columns: [
        { key: "wal", heading: "WAL fsync" },
        { key: "p50Ms", heading: "p50 ms", digits: 2 },
        { key: "p99Ms", heading: "p99 ms", digits: 2 },
      ],
    },
  ],
  charts: [
    {
      name: "throughput",
      title: "Events/s by WAL fsync policy",
      spec: (s) => ({
        data: { values: s.filter((c) => c.params.load === "saturating").map((c) => ({ size: c.params.size, wal: c.params.wal, eventsPerSec: c.metrics.eventsPerSec?.median })) },
        mark: "bar",
        encoding: {
          x: { field: "wal", type: "nominal", sort: [...POLICIES], title: "WAL fsync" },
          xOffset: { field: "size" },
          y: { field: "eventsPerSec", type: "quantitative", title: "events/s" },
          color: { field: "size", type: "nominal" },
        },
      }),
    },
  ],
  notes: (s: CaseSummary[]) =>
    ["small", "1KiB"].flatMap((size) => {
      const of = (wal: string) => s.find((c) => c.params.load === "saturating" && c.params.size === size && c.params.wal === wal)?.metrics.eventsPerSec?.median;
      const none = of("none");
      if (!none) return [];
      return POLICIES.slice(1).map((wal) => `${size} events, WAL ${wal}: ${((of(wal) ?? 0) / none).toFixed(2)}x the events/s without a WAL.`);
    }),
};
