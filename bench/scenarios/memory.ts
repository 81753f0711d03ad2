/**
 * Scenario 5: memory under a long fire-and-forget run with the documented backpressure
 * pattern (`if (!producer.hasCapacity) await producer.ready()`). RSS and heap must stay flat.
 */
import { smallEvent } from "../lib/produce-run.js";
import type { Scenario } from "../lib/scenario.js";
import { startEmbedded, stopEmbedded, type EmbeddedState } from "../lib/embedded.js";

type State = EmbeddedState;

interface Sample {
  seconds: number;
  events: number;
  rssMiB: number;
  heapMiB: number;
}

/** The samples of the latest run per case, for the chart. */
const series = new Map<string, Sample[]>();
const MiB = 1024 * 1024;

export const memory: Scenario<State> = {
  name: "memory",
  title: "Memory over a long fire-and-forget run",
  description:
    "RSS (whole process: main thread, pipeline workers, transport thread, embedded broker thread) and main-thread heap, sampled every " +
    "250 ms while 5,000,000 ~100-byte events are pushed without awaiting their futures, using the documented backpressure pattern. " +
    "Growth is the mean of the last quarter of samples minus the mean of the second quarter (the first quarter is warm-up).",
  defaultRuns: 3,
  cases: () => [{ threads: 0 }, { threads: 2 }],
  setup: () => startEmbedded("memory"),
  async run(params, state, ctx) {
    const events = ctx.quick ? 300_000 : 5_000_000;
    const name = `memory-${Date.now()}`;
    await state.driver.createTopic(name, { partitions: 4 });
    const topic = await state.driver.openTopic(name);
    const pool = state.driver.makeThreadPool(Number(params.threads));
    const producer = topic.producer({ threadPool: pool });
    const samples: Sample[] = [];
    const start = performance.now();
    let pushed = 0;
    const sample = () => {
      const m = process.memoryUsage();
      samples.push({ seconds: (performance.now() - start) / 1000, events: pushed, rssMiB: m.rss / MiB, heapMiB: m.heapUsed / MiB });
    };
    const timer = setInterval(sample, 250);
    try {
      for (; pushed < events; pushed++) {
        producer.push(smallEvent(pushed));
        if (!producer.hasCapacity) {
          ctx.progress(pushed, events);
          await producer.ready();
        }
      }
      await producer.flush();
      sample();
    } finally {
      clearInterval(timer);
      await producer.close();
      await pool.close();
      await state.driver.deleteTopic(name);
    }
    series.set(`threads ${params.threads}`, samples);
    const quarter = (q: number) => samples.slice(Math.floor((q * samples.length) / 4), Math.floor(((q + 1) * samples.length) / 4));
    const mean = (xs: Sample[], k: "rssMiB" | "heapMiB") => xs.reduce((n, x) => n + x[k], 0) / Math.max(1, xs.length);
    return {
      rssMaxMiB: Math.max(...samples.map((s) => s.rssMiB)),
      heapMaxMiB: Math.max(...samples.map((s) => s.heapMiB)),
      rssGrowthMiB: mean(quarter(3), "rssMiB") - mean(quarter(1), "rssMiB"),
      heapGrowthMiB: mean(quarter(3), "heapMiB") - mean(quarter(1), "heapMiB"),
      eventsPerSec: events / samples[samples.length - 1]!.seconds,
    };
  },
  teardown: stopEmbedded,
  tables: [
    {
      title: "Memory",
      columns: [
        { key: "threads", heading: "threads" },
        { key: "rssMaxMiB", heading: "RSS max MiB", spread: true },
        { key: "rssGrowthMiB", heading: "RSS growth MiB", digits: 1 },
        { key: "heapMaxMiB", heading: "heap max MiB", spread: true },
        { key: "heapGrowthMiB", heading: "heap growth MiB", digits: 1 },
        { key: "eventsPerSec", heading: "events/s" },
      ],
    },
  ],
  charts: [
    {
      name: "rss",
      title: "RSS and heap over the run (latest run)",
      spec: () => ({
        data: {
          values: [...series].flatMap(([run, samples]) =>
            samples.flatMap((s) => [
              { run, seconds: s.seconds, measure: "RSS", MiB: s.rssMiB },
              { run, seconds: s.seconds, measure: "heap used", MiB: s.heapMiB },
            ]),
          ),
        },
        mark: "line",
        encoding: {
          x: { field: "seconds", type: "quantitative" },
          y: { field: "MiB", type: "quantitative" },
          color: { field: "run", type: "nominal" },
          strokeDash: { field: "measure", type: "nominal" },
        },
      }),
    },
  ],
};
