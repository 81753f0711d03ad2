/**
 * Scenario 4: peers, side by side in one run. The same events, the same validation
 * (JSON Schema) and the same JSON serialization, published:
 * - with nats.js to JetStream (a local nats-server -js), awaiting one ack per message;
 * - with nats.js to JetStream, async publish with a window of outstanding acks;
 * - by a single-threaded producer that validates and serializes on the main thread and
 *   appends hand-built batches to the tributary broker;
 * - by tributary's producer inline, on 2 worker threads, and placed automatically.
 */
import { connect, StorageType, type NatsConnection } from "nats";
import { SHOWCASE_SCHEMA, showcaseEvent } from "../../src/cli/demo.js";
import { startNatsServer, type NatsServer } from "../lib/nats-server.js";
import { startEmbedded, stopEmbedded, type EmbeddedState } from "../lib/embedded.js";
import { produceRun } from "../lib/produce-run.js";
import { rawAppend } from "../lib/raw-append.js";
import { SCHEMA_COST_VALIDATOR_MODULE, SchemaCostValidator } from "../plugins/schema-cost-validator.js";
import type { CaseSummary, Scenario } from "../lib/scenario.js";

interface State extends EmbeddedState {
  nats: NatsServer;
  nc: NatsConnection;
}

const SYSTEMS = ["nats-ack-each", "nats-async-window", "single-thread", "tributary-inline", "tributary-pool-2", "tributary-auto"];
const WINDOW = 256;
const encoder = new TextEncoder();

/** The validation every system runs: the showcase's JSON Schema, plus the extra per-event cost. */
const makeValidate = (costUs: number): ((md: unknown) => void) => {
  const validator = new SchemaCostValidator({ schema: SHOWCASE_SCHEMA, costUs });
  return (md) => validator.validate(md);
};

export const peers: Scenario<State> = {
  name: "peers",
  title: "Peers: nats.js to JetStream, a hand-written single-threaded producer, tributary",
  description:
    "The same ~100-byte events, validated against the showcase's JSON Schema (plus a spinning validator of 20 µs in the " +
    "`20 µs` cases) and serialized as JSON, published by: nats.js to a local JetStream (nats-server 2.9 from Debian, file " +
    `storage) awaiting each ack (ack-each) or with up to ${WINDOW} acks outstanding (async-window); a single-threaded producer ` +
    "that validates and serializes on the main thread and appends hand-built batches of 1,024 to the tributary broker; and " +
    "tributary's producer inline, on 2 worker threads, and placed automatically (4 partitions, key-hash on the sensor, adaptive " +
    "batches). Every system runs in the same process against servers on 127.0.0.1, one after the other, in the same run.",
  cases: () => [0, 20].flatMap((costUs) => SYSTEMS.map((system) => ({ costUs, system }))),
  async setup() {
    const nats = await startNatsServer();
    const nc = await connect({ servers: nats.url.replace("nats://", "") });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "BENCH", subjects: ["bench.>"], storage: StorageType.File });
    return { ...(await startEmbedded("peers")), nats, nc };
  },
  async run(params, state, ctx) {
    const costUs = Number(params.costUs);
    const system = String(params.system);
    const nowTs = 1_790_000_000_000;
    const makeEvent = (i: number) => showcaseEvent(i, nowTs);
    const slow = system === "nats-ack-each" || costUs > 0;
    const events = ctx.quick ? 5_000 : slow ? 40_000 : 200_000;
    if (system.startsWith("nats")) {
      const validate = makeValidate(costUs);
      const js = state.nc.jetstream();
      await (await state.nc.jetstreamManager()).streams.purge("BENCH");
      const start = performance.now();
      const inFlight = new Set<Promise<unknown>>();
      for (let i = 0; i < events; i++) {
        const md = makeEvent(i);
        validate(md);
        const p = js.publish(`bench.${md.sensor as string}`, encoder.encode(JSON.stringify(md)));
        if (system === "nats-ack-each") await p;
        else {
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
          if (inFlight.size >= WINDOW) await Promise.race(inFlight);
        }
        if (i % 4096 === 0) ctx.progress(i, events);
      }
      await Promise.all(inFlight);
      return { eventsPerSec: events / ((performance.now() - start) / 1000) };
    }
    if (system === "single-thread") {
      const topic = `single-${Date.now()}`;
      await state.driver.createTopic(topic, { partitions: 4 });
      try {
        return await rawAppend({ url: state.driver.url, topic, partitions: 4, events, batchSize: 1024, window: 4, makeEvent, validate: makeValidate(costUs) });
      } finally {
        await state.driver.deleteTopic(topic);
      }
    }
    const threads = system === "tributary-inline" ? 0 : system === "tributary-auto" ? "auto" : 2;
    const pool = state.driver.makeThreadPool(threads);
    try {
      const r = await produceRun({
        driver: state.driver,
        topic: {
          partitions: 4,
          validator: { module: SCHEMA_COST_VALIDATOR_MODULE, export: "SchemaCostValidator", config: { schema: SHOWCASE_SCHEMA, costUs } },
          partitionSelector: "key-hash",
        },
        pool,
        events,
        makeEvent,
        makeKey: (i) => `sensor-${String(i % 997).padStart(3, "0")}`,
        onProgress: ctx.progress,
      });
      return { eventsPerSec: r.eventsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms };
    } finally {
      await pool.close();
    }
  },
  async teardown(state) {
    await state.nc.drain();
    await state.nats.stop();
    await stopEmbedded(state);
  },
  tables: [
    {
      title: "Events/s, side by side",
      columns: [
        { key: "costUs", heading: "extra cost µs" },
        { key: "system", heading: "system" },
        { key: "eventsPerSec", heading: "events/s", spread: true },
      ],
    },
  ],
  charts: [
    {
      name: "events-per-sec",
      title: "Events/s: JetStream via nats.js, single-threaded, tributary",
      spec: (s) => ({
        data: { values: s.filter((c) => c.metrics.eventsPerSec).map((c) => ({ system: c.params.system, cost: `${c.params.costUs} µs`, eventsPerSec: c.metrics.eventsPerSec!.median })) },
        mark: "bar",
        encoding: {
          y: { field: "system", type: "nominal", sort: SYSTEMS, title: null },
          yOffset: { field: "cost" },
          x: { field: "eventsPerSec", type: "quantitative", title: "events/s" },
          color: { field: "cost", type: "nominal", title: "extra cost" },
        },
      }),
    },
  ],
  notes: (s: CaseSummary[]) =>
    [0, 20].flatMap((costUs) => {
      const of = (sys: string) => s.find((c) => Number(c.params.costUs) === costUs && c.params.system === sys)?.metrics.eventsPerSec?.median ?? NaN;
      const best = Math.max(of("tributary-inline"), of("tributary-pool-2"), of("tributary-auto"));
      return ["nats-ack-each", "nats-async-window", "single-thread"].map(
        (peer) => `${costUs} µs extra: best tributary path / ${peer} = ${(best / of(peer)).toFixed(2)}x`,
      );
    }),
};
