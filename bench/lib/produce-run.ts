/**
 * One measured production: pushes `events` events through a producer as fast as the
 * backpressure pattern allows (or at an offered rate), flushes, and reports events/s
 * and the push-to-ack latency of a sample of events.
 */
import type { Driver, EventData, ProducerOptions, ThreadPool, TopicOptions } from "../../src/index.js";
import { BatchSize, Ordering, type BatchSizeOption } from "../../src/index.js";
import { quantile } from "./stats.js";

export interface ProduceRunOptions {
  driver: Driver;
  topic: TopicOptions & { partitions: number };
  pool: ThreadPool;
  ordering?: "strict" | "loose";
  batchSize?: BatchSizeOption;
  maxNumBatches?: number;
  events: number;
  makeEvent(i: number): unknown;
  /** Partition key per event (for key-hash topics); omitted: no key. */
  makeKey?(i: number): string;
  /** Offered load in events/s; omitted: as fast as the producer takes them. */
  offeredRate?: number;
  /** Push with `pushMany` over a generator instead of a push loop (no latency sample). */
  bulk?: boolean;
  /** Data bytes of every event (the same view each time). */
  data?: EventData;
  /** More producer options (a WAL, linger, …). */
  producer?: Partial<ProducerOptions>;
  /** Latency up to the ack (default) or up to `durable()`. */
  latencyOf?: "ack" | "durable";
  /** Called once every event is acknowledged, before the producer closes. */
  onFlushed?(): void;
  /** Latency is measured on one event in this many. Default 64. */
  sampleEvery?: number;
  onProgress?(done: number, total: number): void;
}

export interface ProduceRunResult {
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanBatchEvents: number;
  failed: number;
  placement?: string;
}

let topicCounter = 0;

export async function produceRun(o: ProduceRunOptions): Promise<ProduceRunResult> {
  const name = `bench-${process.pid}-${topicCounter++}`;
  await o.driver.createTopic(name, o.topic);
  const topic = await o.driver.openTopic(name);
  const producer = topic.producer({
    ...o.producer,
    name: o.producer?.name ?? "bench",
    threadPool: o.pool,
    ordering: o.ordering === "loose" ? Ordering.Loose : Ordering.Strict,
    batchSize: o.batchSize ?? BatchSize.Adaptive,
    maxNumBatches: o.maxNumBatches ?? 2,
  });
  const every = o.sampleEvery ?? 64;
  const latencies: number[] = [];
  const record = (t0: number) => () => latencies.push(performance.now() - t0);
  const sample = (f: ReturnType<typeof producer.push>) => {
    const t0 = performance.now();
    (o.latencyOf === "durable" ? f.durable() : f).then(record(t0), () => {});
  };
  try {
    await producer.ready();
    const start = performance.now();
    if (o.bulk) {
      const source = function* () {
        for (let i = 0; i < o.events; i++) yield { metadata: o.makeEvent(i), data: o.data, key: o.makeKey?.(i) };
      };
      let done = 0;
      for await (const ack of producer.pushMany(source())) {
        if (++done % 65_536 === 0) o.onProgress?.(done, o.events);
        void ack;
      }
    } else if (o.offeredRate) {
      // Paced: every millisecond, push what the offered rate says is due.
      let i = 0;
      while (i < o.events) {
        const due = Math.min(o.events, Math.floor(((performance.now() - start) / 1000) * o.offeredRate) + 1);
        for (; i < due; i++) {
          const f = producer.push(o.makeEvent(i), o.data, o.makeKey ? { key: o.makeKey(i) } : undefined);
          if (i % every === 0) sample(f);
        }
        o.onProgress?.(i, o.events);
        await new Promise((r) => setTimeout(r, 1));
      }
    } else {
      for (let i = 0; i < o.events; i++) {
        const f = producer.push(o.makeEvent(i), o.data, o.makeKey ? { key: o.makeKey(i) } : undefined);
        if (i % every === 0) sample(f);
        if (!producer.hasCapacity) {
          o.onProgress?.(i, o.events);
          await producer.ready();
        }
      }
    }
    await producer.flush();
    const seconds = (performance.now() - start) / 1000;
    o.onFlushed?.();
    const stats = await producer.stats();
    return {
      eventsPerSec: stats.acknowledged / seconds,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      meanBatchEvents: stats.meanBatchEvents,
      failed: stats.failed,
      placement: o.pool.placementOf(topic.pipeline),
    };
  } finally {
    await producer.close();
    await o.driver.deleteTopic(name);
  }
}

/** A ~100-byte JSON event (the showcase's shape), with an optional pipeline cost. */
export function smallEvent(i: number, costUs = 0): Record<string, unknown> {
  const e: Record<string, unknown> = { seq: i, sensor: `sensor-${String(i % 997).padStart(3, "0")}`, energy: (i * 7919) % 1000, unit: "kWh", site: "north-ridge", ts: 1_790_000_000_000 + i };
  if (costUs > 0) e.costUs = costUs;
  return e;
}
