/**
 * Scenario 4: peers, side by side in one run. The same events, the same validation
 * (JSON Schema) and the same JSON serialization, published:
 * - with nats.js to JetStream (a local nats-server -js), awaiting one ack per message;
 * - with nats.js to JetStream, async publish with a window of outstanding acks;
 * - by a single-threaded producer that validates and serializes on the main thread and
 *   appends hand-built batches to the tributary broker;
 * - by tributary's producer inline, on 2 worker threads, and placed automatically;
 * - to JetStream once more, single node (R1) and a 3-node cluster (R3), by nats.js
 *   (v3, async window) and by tributary's producer through the JetStream driver, into the
 *   same topic layout (one stream per partition, created by the driver).
 */
import { connect, StorageType, type NatsConnection } from "nats";
import { connect as connectV3, type NatsConnection as NatsConnectionV3 } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Driver } from "../../src/index.js";
import { fnv1a32 } from "../../src/pipeline/builtins/key-hash-selector.js";
import { SHOWCASE_SCHEMA, showcaseEvent } from "../../src/cli/demo.js";
import { startNatsCluster, startNatsServer, type NatsCluster, type NatsServer } from "../lib/nats-server.js";
import { startEmbedded, stopEmbedded, type EmbeddedState } from "../lib/embedded.js";
import { produceRun } from "../lib/produce-run.js";
import { rawAppend } from "../lib/raw-append.js";
import { SCHEMA_COST_VALIDATOR_MODULE, SchemaCostValidator } from "../plugins/schema-cost-validator.js";
import type { CaseSummary, Scenario } from "../lib/scenario.js";

interface JetStreamTarget {
  servers: NatsCluster;
  driver: Driver;
  nc: NatsConnectionV3;
  replicas: number;
}

interface State extends EmbeddedState {
  nats: NatsServer;
  nc: NatsConnection;
  /** JetStream side by side: R1 on `nats`, R3 on a 3-node cluster. */
  js: Record<"r1" | "r3", JetStreamTarget>;
}

const SYSTEMS = ["nats-ack-each", "nats-async-window", "single-thread", "tributary-inline", "tributary-pool-2", "tributary-auto"];
/** The JetStream side by side: nats.js and tributary into the same layout, R1 and R3. */
const JS_SYSTEMS = ["nats.js → JetStream R1", "tributary → JetStream R1", "nats.js → JetStream R3", "tributary → JetStream R3"];
const JS_PARTITIONS = 4;
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
    "batches). Then JetStream side by side, on a single node (R1) and on a 3-node cluster (R3): nats.js 3 publishing from the " +
    `main thread with ${WINDOW} acks outstanding, and tributary's producer (inline pipeline, 8 batches in flight per partition) ` +
    "through the JetStream driver, both into a 4-partition topic created by the driver (one stream per partition). Every " +
    "system runs in the same process against servers on 127.0.0.1, one after the other, in the same run.",
  cases: () => [...[0, 20].flatMap((costUs) => SYSTEMS.map((system) => ({ costUs, system }))), ...JS_SYSTEMS.map((system) => ({ costUs: 0, system }))],
  async setup() {
    const nats = await startNatsServer();
    const nc = await connect({ servers: nats.url.replace("nats://", "") });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "BENCH", subjects: ["bench.>"], storage: StorageType.File });
    const target = async (servers: NatsCluster, replicas: number): Promise<JetStreamTarget> => ({
      servers,
      replicas,
      driver: await Driver.connect(servers.url),
      nc: await connectV3({ servers: servers.nodes.map((n) => n.address) }),
    });
    const js = { r1: await target(nats, 1), r3: await target(await startNatsCluster(), 3) };
    return { ...(await startEmbedded("peers")), nats, nc, js };
  },
  async run(params, state, ctx) {
    const costUs = Number(params.costUs);
    const system = String(params.system);
    const nowTs = 1_790_000_000_000;
    const makeEvent = (i: number) => showcaseEvent(i, nowTs);
    const slow = system === "nats-ack-each" || costUs > 0;
    const events = ctx.quick ? 5_000 : slow ? 40_000 : 200_000;
    if (system.includes("JetStream")) return jetStreamRun(system, state.js[system.endsWith("R3") ? "r3" : "r1"], ctx.quick ? 5_000 : 60_000, makeEvent, ctx);
    if (system.startsWith("nats")) {
      const js = state.nc.jetstream();
      await (await state.nc.jetstreamManager()).streams.purge("BENCH");
      return natsPublishRun({
        events,
        window: system === "nats-ack-each" ? 1 : WINDOW,
        makeEvent,
        validate: makeValidate(costUs),
        publish: (md) => js.publish(`bench.${md.sensor as string}`, encoder.encode(JSON.stringify(md))),
        progress: ctx.progress,
      });
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
    for (const t of Object.values(state.js)) {
      await t.driver.close();
      await t.nc.close();
    }
    await state.js.r3.servers.stop();
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
          y: { field: "system", type: "nominal", sort: [...SYSTEMS, ...JS_SYSTEMS], title: null },
          yOffset: { field: "cost" },
          x: { field: "eventsPerSec", type: "quantitative", title: "events/s" },
          color: { field: "cost", type: "nominal", title: "extra cost" },
        },
      }),
    },
  ],
  notes: (s: CaseSummary[]) => [
    ...[0, 20].flatMap((costUs) => {
      const of = (sys: string) => s.find((c) => Number(c.params.costUs) === costUs && c.params.system === sys)?.metrics.eventsPerSec?.median ?? NaN;
      const best = Math.max(of("tributary-inline"), of("tributary-pool-2"), of("tributary-auto"));
      return ["nats-ack-each", "nats-async-window", "single-thread"].map(
        (peer) => `${costUs} µs extra: best tributary path / ${peer} = ${(best / of(peer)).toFixed(2)}x`,
      );
    }),
    ...["R1", "R3"].map((r) => {
      const of = (sys: string) => s.find((c) => c.params.system === `${sys} → JetStream ${r}`)?.metrics.eventsPerSec?.median ?? NaN;
      return `JetStream ${r}: tributary / nats.js (async window ${WINDOW}) = ${(of("tributary") / of("nats.js")).toFixed(2)}x`;
    }),
  ],
};

/**
 * One JetStream case: a fresh 4-partition topic (one stream per partition, created by the
 * driver, R1 or R3), filled with the same validated events either by nats.js from the main
 * thread (`js.publish` to the partition's subject by key hash, window of acks) or by
 * tributary's producer inline (the transport thread appends through the driver).
 */
async function jetStreamRun(system: string, target: JetStreamTarget, events: number, makeEvent: (i: number) => Record<string, unknown>, ctx: { progress(done: number, total: number): void }) {
  if (system.startsWith("tributary")) {
    const pool = target.driver.makeThreadPool(0);
    try {
      const r = await produceRun({
        driver: target.driver,
        topic: { partitions: JS_PARTITIONS, replicas: target.replicas, validator: { module: "json-schema", config: { schema: SHOWCASE_SCHEMA } }, partitionSelector: "key-hash" },
        pool,
        events,
        makeEvent,
        makeKey: (i) => `sensor-${String(i % 997).padStart(3, "0")}`,
        // More batches in flight per partition keep every stream leader busy while the
        // next batch is published (README "Scale out with NATS JetStream", tuning).
        maxNumBatches: 8,
        onProgress: ctx.progress,
      });
      return { eventsPerSec: r.eventsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms };
    } finally {
      await pool.close();
    }
  }
  const name = `natsjs-${process.pid}-${Date.now()}`;
  await target.driver.createTopic(name, { partitions: JS_PARTITIONS, replicas: target.replicas });
  try {
    const js = jetstream(target.nc);
    // The partition the key-hash selector would pick, so both fill the same streams.
    const subject = (key: string) => `tributary.${name}.${fnv1a32(key) % JS_PARTITIONS}`;
    return await natsPublishRun({
      events,
      window: WINDOW,
      makeEvent,
      validate: makeValidate(0),
      publish: (md) => js.publish(subject(md.sensor as string), encoder.encode(JSON.stringify(md))),
      progress: ctx.progress,
    });
  } finally {
    await target.driver.deleteTopic(name);
  }
}

/**
 * nats.js from the main thread: validate, serialize and publish each event, with up to
 * `window` acknowledgements outstanding (1: await each).
 */
async function natsPublishRun(o: {
  events: number;
  window: number;
  makeEvent(i: number): Record<string, unknown>;
  validate(md: unknown): void;
  publish(md: Record<string, unknown>): Promise<unknown>;
  progress(done: number, total: number): void;
}) {
  const start = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < o.events; i++) {
    const md = o.makeEvent(i);
    o.validate(md);
    const p = o.publish(md);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= o.window) await Promise.race(inFlight);
    if (i % 4096 === 0) o.progress(i, o.events);
  }
  await Promise.all(inFlight);
  return { eventsPerSec: o.events / ((performance.now() - start) / 1000) };
}

