/**
 * Consumers: events/s read back from the earliest event to the end, and events/s a
 * follow-mode consumer delivers while a producer writes, beside what the producer alone
 * reaches, per driver (the embedded tributary broker, and JetStream on one nats-server).
 */
import { Driver } from "../../src/index.js";
import { smallEvent } from "../lib/produce-run.js";
import type { CaseSummary, Metrics, Scenario } from "../lib/scenario.js";
import { startEmbedded, stopEmbedded, type EmbeddedState } from "../lib/embedded.js";
import { startNatsServer, type NatsServer } from "../lib/nats-server.js";

const DRIVERS = ["tributary", "jetstream"] as const;
const MODES = ["produce", "earliest", "follow"] as const;
const PARTITIONS = 4;

type State = EmbeddedState & {
  nats: NatsServer;
  jetstream: Driver;
  /** Per driver: a topic filled once in setup, read from the earliest event by every run. */
  filled: Record<(typeof DRIVERS)[number], { topic: string; events: number }>;
};

let round = 0;

function eventsFor(driver: string, quick: boolean): number {
  const n = driver === "tributary" ? 400_000 : 100_000;
  return quick ? n / 10 : n;
}

/** Pushes `events` small events (inline pipeline, backpressure loop) and flushes. */
async function produce(driver: Driver, topic: string, events: number): Promise<number> {
  const pool = driver.makeThreadPool(0);
  const producer = (await driver.openTopic(topic)).producer({ threadPool: pool, maxNumBatches: 8 });
  try {
    await producer.ready();
    const start = performance.now();
    for (let i = 0; i < events; i++) {
      producer.push(smallEvent(i));
      if (!producer.hasCapacity) await producer.ready();
    }
    await producer.flush();
    const seconds = (performance.now() - start) / 1000;
    const { acknowledged } = await producer.stats();
    if (acknowledged !== events) throw new Error(`${events - acknowledged} events not acknowledged`);
    return events / seconds;
  } finally {
    await producer.close();
    await pool.close();
  }
}

/** Reads every event of `topic` from the earliest to the end; checks the count and each partition's order. */
async function readAll(driver: Driver, topic: string, events: number): Promise<number> {
  const consumer = (await driver.openTopic(topic)).consumer({ name: `bench-${round++}`, start: "earliest", follow: false });
  const next = new Array<number>(PARTITIONS).fill(0);
  let seen = 0;
  const start = performance.now();
  for await (const ev of consumer) {
    if (ev.id !== next[ev.partition]) throw new Error(`partition ${ev.partition}: event ${ev.id} where ${next[ev.partition]} was next`);
    next[ev.partition]!++;
    void ev.metadata;
    seen++;
  }
  const seconds = (performance.now() - start) / 1000;
  if (seen !== events) throw new Error(`read ${seen} of ${events} events`);
  return events / seconds;
}

/** A follow-mode consumer from the latest event while a producer writes `events`: both rates. */
async function follow(driver: Driver, events: number): Promise<Metrics> {
  const topic = `consume-follow-${process.pid}-${round++}`;
  await driver.createTopic(topic, { partitions: PARTITIONS });
  try {
    const consumer = (await driver.openTopic(topic)).consumer({ name: "bench", start: "latest", follow: true });
    let seen = 0;
    const reading = (async () => {
      for await (const ev of consumer) {
        void ev.metadata;
        if (++seen === events) break;
      }
      return performance.now();
    })();
    const start = performance.now();
    const producerEventsPerSec = await produce(driver, topic, events);
    const end = await reading;
    if (seen !== events) throw new Error(`the follow consumer got ${seen} of ${events} events`);
    return { eventsPerSec: events / ((end - start) / 1000), producerEventsPerSec };
  } finally {
    await driver.deleteTopic(topic);
  }
}

export const consume: Scenario<State> = {
  name: "consume",
  title: "Consumers: reading back, and following a producer",
  description:
    "~100-byte JSON events in a 4-partition topic, per driver: the embedded tributary broker, and JetStream on a single " +
    "nats-server (R1, one stream per partition). produce: events/s of a producer alone (inline pipeline, 8 batches in flight, " +
    "every event acknowledged). earliest: events/s of a finite consumer (follow: false) reading the whole topic from its first " +
    "event, every event's metadata decoded and each partition's order checked. follow: events/s delivered to a follow-mode " +
    "consumer that started at the latest event, from the first push to the last event received, while one producer writes " +
    "them (the producer's own rate beside it).",
  cases: () => DRIVERS.flatMap((driver) => MODES.map((mode) => ({ driver, mode }))),
  async setup(ctx) {
    const embedded = await startEmbedded("consume");
    const nats = await startNatsServer();
    const jetstream = await Driver.connect(nats.url);
    const filled = {} as State["filled"];
    for (const [name, driver] of [
      ["tributary", embedded.driver],
      ["jetstream", jetstream],
    ] as const) {
      const topic = `consume-filled-${process.pid}`;
      const events = eventsFor(name, ctx.quick);
      await driver.createTopic(topic, { partitions: PARTITIONS });
      await produce(driver, topic, events);
      filled[name] = { topic, events };
    }
    return { ...embedded, nats, jetstream, filled };
  },
  async run(params, state, ctx): Promise<Metrics> {
    const name = String(params.driver) as (typeof DRIVERS)[number];
    const driver = name === "tributary" ? state.driver : state.jetstream;
    const events = eventsFor(name, ctx.quick);
    if (params.mode === "earliest") {
      const { topic, events: filled } = state.filled[name];
      return { eventsPerSec: await readAll(driver, topic, filled) };
    }
    if (params.mode === "follow") return follow(driver, events);
    const topic = `consume-produce-${process.pid}-${round++}`;
    await driver.createTopic(topic, { partitions: PARTITIONS });
    try {
      return { eventsPerSec: await produce(driver, topic, events) };
    } finally {
      await driver.deleteTopic(topic);
    }
  },
  async teardown(state) {
    await state.jetstream.close();
    await state.nats.stop();
    await stopEmbedded(state);
  },
  tables: [
    {
      title: "Events/s",
      columns: [
        { key: "driver", heading: "driver" },
        { key: "mode", heading: "mode" },
        { key: "eventsPerSec", heading: "events/s", spread: true },
        { key: "producerEventsPerSec", heading: "producer alone, same run (follow)" },
      ],
    },
  ],
  charts: [],
  notes: (s: CaseSummary[]) => {
    const of = (driver: string, mode: string) => s.find((c) => c.params.driver === driver && c.params.mode === mode)?.metrics.eventsPerSec?.median ?? NaN;
    return DRIVERS.map(
      (d) =>
        `${d}: reading from the earliest event at ${(of(d, "earliest") / of(d, "produce")).toFixed(2)}x the producer's events/s; ` +
        `a follow-mode consumer keeps up at ${(of(d, "follow") / of(d, "produce")).toFixed(2)}x.`,
    );
  },
};
