/**
 * Small events against the main thread's floor: a bare single-thread loop that only
 * makes and serializes the events (JSON.stringify + TextEncoder, no I/O, no futures),
 * beside tributary producing the same events end to end into the embedded broker, with
 * the outcome of every event observed in three ways.
 */
import { Driver } from "../../src/index.js";
import { smallEvent } from "../lib/produce-run.js";
import type { CaseSummary, Metrics, Scenario } from "../lib/scenario.js";
import { startEmbedded, stopEmbedded, type EmbeddedState } from "../lib/embedded.js";
import { cpuSeconds } from "../lib/thread-cpu.js";

type State = EmbeddedState;

const WINDOW = 20_000;
const SYSTEMS = ["bare-loop", "tributary-awaited", "tributary-callback", "tributary-flush"] as const;

let topics = 0;

async function tributary(driver: Driver, mode: string, events: number): Promise<Metrics> {
  const name = `floor-${process.pid}-${topics++}`;
  await driver.createTopic(name, { partitions: 4 });
  const pool = driver.makeThreadPool("auto");
  const producer = (await driver.openTopic(name)).producer({ threadPool: pool });
  try {
    await producer.ready();
    let acked = 0;
    const onDelivery = (err: Error | undefined): void => {
      if (!err) acked++;
    };
    const cpu0 = cpuSeconds();
    const start = performance.now();
    if (mode === "awaited") {
      // Every future awaited, a window of them at a time.
      let window: PromiseLike<number>[] = [];
      for (let i = 0; i < events; i++) {
        window.push(producer.push(smallEvent(i)));
        if (window.length === WINDOW) {
          acked += (await Promise.all(window)).length;
          window = [];
        }
      }
      acked += (await Promise.all(window)).length;
    } else {
      for (let i = 0; i < events; i++) {
        producer.push(smallEvent(i), undefined, mode === "callback" ? { onDelivery } : undefined);
        if (!producer.hasCapacity) await producer.ready();
      }
      await producer.flush();
      if (mode === "flush") acked = (await producer.stats()).acknowledged;
    }
    const seconds = (performance.now() - start) / 1000;
    const cpu1 = cpuSeconds();
    if (acked !== events) throw new Error(`${events - acked} events not acknowledged`);
    return {
      eventsPerSec: events / seconds,
      mainCpuUsPerEvent: ((cpu1.main - cpu0.main) * 1e6) / events,
      processCpuUsPerEvent: ((cpu1.process - cpu0.process) * 1e6) / events,
      pooled: pool.placementOf((await driver.openTopic(name)).pipeline) === "pool" ? 1 : 0,
    };
  } finally {
    await producer.close();
    await pool.close();
    await driver.deleteTopic(name);
  }
}

export const floor: Scenario<State> = {
  name: "floor",
  title: "Small events against the main thread's floor",
  description:
    "~100-byte JSON events (the showcase's shape). bare-loop: one thread makes each event and serializes it " +
    "(JSON.stringify + TextEncoder.encode), nothing else. tributary: the default pipeline (accept all, round-robin, JSON), " +
    `makeThreadPool("auto"), 4 partitions, embedded broker, every event acknowledged; "awaited" awaits every future ` +
    `(Promise.all over windows of ${WINDOW.toLocaleString("en-US")}), "callback" counts outcomes with onDelivery, "flush" ` +
    "pushes with the backpressure pattern and awaits one flush. CPU µs per event from /proc (main thread, and the whole " +
    "producing process including the broker's thread).",
  cases: () => SYSTEMS.map((system) => ({ system })),
  setup: () => startEmbedded("floor"),
  async run(params, state, ctx): Promise<Metrics> {
    const events = ctx.quick ? 200_000 : 1_000_000;
    if (params.system === "bare-loop") {
      const encoder = new TextEncoder();
      const cpu0 = cpuSeconds();
      const start = performance.now();
      let bytes = 0;
      for (let i = 0; i < events; i++) bytes += encoder.encode(JSON.stringify(smallEvent(i))).byteLength;
      const seconds = (performance.now() - start) / 1000;
      const cpu1 = cpuSeconds();
      if (bytes === 0) throw new Error("nothing serialized");
      return { eventsPerSec: events / seconds, mainCpuUsPerEvent: ((cpu1.main - cpu0.main) * 1e6) / events, processCpuUsPerEvent: ((cpu1.process - cpu0.process) * 1e6) / events };
    }
    return tributary(state.driver, String(params.system).replace("tributary-", ""), events);
  },
  teardown: stopEmbedded,
  tables: [
    {
      title: "Events/s and CPU per event",
      columns: [
        { key: "system", heading: "system" },
        { key: "eventsPerSec", heading: "events/s", spread: true },
        { key: "mainCpuUsPerEvent", heading: "main CPU µs/event", digits: 2 },
        { key: "processCpuUsPerEvent", heading: "process CPU µs/event", digits: 2 },
      ],
    },
  ],
  charts: [
    {
      name: "events-per-sec",
      title: "Events/s: the bare serialization loop vs tributary end to end",
      spec: (s) => ({
        data: { values: s.map((c) => ({ system: c.params.system, eventsPerSec: c.metrics.eventsPerSec?.median })) },
        mark: "bar",
        encoding: { x: { field: "system", type: "nominal", sort: [...SYSTEMS] }, y: { field: "eventsPerSec", type: "quantitative", title: "events/s" } },
      }),
    },
  ],
  notes: (s: CaseSummary[]) => {
    const of = (system: string) => s.find((c) => c.params.system === system)?.metrics.eventsPerSec?.median ?? NaN;
    return SYSTEMS.slice(1).map((sys) => `${sys}: ${(of(sys) / of("bare-loop")).toFixed(2)}x the bare loop's events/s (goal for awaited ≥ 0.8).`);
  },
};
