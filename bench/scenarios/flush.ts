/**
 * Scenario 6: what a graceful shutdown costs. N events are pushed without waiting, then
 * the time from `flush()` until it resolves is measured.
 */
import { smallEvent } from "../lib/produce-run.js";
import type { Scenario } from "../lib/scenario.js";
import { startEmbedded, stopEmbedded, type EmbeddedState } from "../lib/embedded.js";

type State = EmbeddedState;

export const flush: Scenario<State> = {
  name: "flush",
  title: "Flush at shutdown",
  description:
    "Time from `flush()` to its resolution with N events pushed and not yet acknowledged (pushed in one synchronous loop, " +
    "maxPendingEvents above N so nothing waited), inline and on 2 worker threads. ~100-byte JSON events, 4 partitions, " +
    "adaptive batches, embedded broker. This is what a SIGTERM handler that flushes before exit waits for.",
  cases: (quick) => (quick ? [1_000, 10_000] : [1_000, 10_000, 100_000, 500_000]).flatMap((pending) => [0, 2].map((threads) => ({ pending, threads }))),
  setup: () => startEmbedded("flush"),
  async run(params, state) {
    const pending = Number(params.pending);
    const name = `flush-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    await state.driver.createTopic(name, { partitions: 4 });
    const topic = await state.driver.openTopic(name);
    const pool = state.driver.makeThreadPool(Number(params.threads));
    const producer = topic.producer({ threadPool: pool, maxPendingEvents: pending + 1 });
    try {
      await producer.ready();
      for (let i = 0; i < pending; i++) producer.push(smallEvent(i));
      const t0 = performance.now();
      await producer.flush();
      const flushMs = performance.now() - t0;
      const stats = await producer.stats();
      if (stats.acknowledged !== pending) throw new Error(`acknowledged ${stats.acknowledged} of ${pending}`);
      return { flushMs, eventsPerSecDuringFlush: pending / (flushMs / 1000) };
    } finally {
      await producer.close();
      await pool.close();
      await state.driver.deleteTopic(name);
    }
  },
  teardown: stopEmbedded,
  tables: [
    {
      title: "flush() with N events pending",
      columns: [
        { key: "pending", heading: "pending events" },
        { key: "threads", heading: "threads" },
        { key: "flushMs", heading: "flush ms", digits: 1, spread: true },
        { key: "eventsPerSecDuringFlush", heading: "events/s while flushing" },
      ],
    },
  ],
  charts: [
    {
      name: "flush-ms",
      title: "flush() time by pending events",
      spec: (s) => ({
        data: { values: s.filter((c) => c.metrics.flushMs).map((c) => ({ pending: Number(c.params.pending), threads: String(c.params.threads), flushMs: c.metrics.flushMs!.median })) },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "pending", type: "quantitative", scale: { type: "log" }, title: "pending events" },
          y: { field: "flushMs", type: "quantitative", scale: { type: "log" }, title: "flush ms" },
          color: { field: "threads", type: "nominal" },
        },
      }),
    },
  ],
};
