/**
 * Many producers in one process: 16 producers, each on a topic of its own, share one
 * transport thread; their aggregate throughput against one producer alone, side by side.
 */
import fs from "node:fs";
import { smallEvent } from "../lib/produce-run.js";
import type { CaseSummary, Metrics, Scenario } from "../lib/scenario.js";
import { startEmbedded, stopEmbedded, type EmbeddedState } from "../lib/embedded.js";
import { transportThreads } from "../../src/internal.js";

type State = EmbeddedState;

let round = 0;

/** Threads of this process right now (Linux). */
function threadCount(): number {
  try {
    return fs.readdirSync("/proc/self/task").length;
  } catch {
    return NaN;
  }
}

export const many: Scenario<State> = {
  name: "many",
  title: "Many producers sharing one transport thread",
  description:
    "Aggregate events/s of 1 or 16 producers in one process, each on its own 4-partition topic (default pipeline, inline, " +
    "Adaptive, embedded broker), pushing the same total number of events concurrently with the backpressure pattern. " +
    "threads: threads of the process during the run; transport: transport threads among them.",
  cases: () => [1, 16].map((producers) => ({ producers })),
  setup: () => startEmbedded("many"),
  async run(params, state, ctx): Promise<Metrics> {
    const n = Number(params.producers);
    const total = ctx.quick ? 200_000 : 1_000_000;
    const per = Math.floor(total / n);
    const pool = state.driver.makeThreadPool(0);
    const names = Array.from({ length: n }, (_, i) => `many-${process.pid}-${round}-${i}`);
    round++;
    for (const name of names) await state.driver.createTopic(name, { partitions: 4 });
    const producers = await Promise.all(names.map(async (name) => (await state.driver.openTopic(name)).producer({ threadPool: pool })));
    try {
      await Promise.all(producers.map((p) => p.ready()));
      let threads = 0;
      let transports = 0;
      const start = performance.now();
      await Promise.all(
        producers.map(async (p, k) => {
          for (let i = 0; i < per; i++) {
            p.push(smallEvent(i));
            if (!p.hasCapacity) await p.ready();
            if (k === 0 && i === per >> 1) {
              threads = threadCount();
              transports = transportThreads();
            }
          }
          await p.flush();
        }),
      );
      const seconds = (performance.now() - start) / 1000;
      const acked = (await Promise.all(producers.map((p) => p.stats()))).reduce((a, s) => a + s.acknowledged, 0);
      if (acked !== per * n) throw new Error(`${per * n - acked} events not acknowledged`);
      return { eventsPerSec: acked / seconds, threads, transportThreads: transports };
    } finally {
      await Promise.all(producers.map((p) => p.close()));
      await pool.close();
      for (const name of names) await state.driver.deleteTopic(name);
    }
  },
  teardown: stopEmbedded,
  tables: [
    {
      title: "Aggregate events/s",
      columns: [
        { key: "producers", heading: "producers" },
        { key: "eventsPerSec", heading: "events/s", spread: true },
        { key: "threads", heading: "threads" },
        { key: "transportThreads", heading: "transport threads" },
      ],
    },
  ],
  charts: [],
  notes: (s: CaseSummary[]) => {
    const of = (n: number) => s.find((c) => Number(c.params.producers) === n)?.metrics.eventsPerSec?.median ?? NaN;
    return [`16 producers reach ${(of(16) / of(1)).toFixed(2)}x the events/s of one (goal ≥ 0.9).`];
  },
};
