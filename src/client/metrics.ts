/**
 * Prometheus metrics of a driver's producers, through prom-client. Counters and gauges
 * are read from the producers when the registry is scraped; the two histograms get one
 * observation per batch. With no registry given, nothing here runs.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | tributary_producer_events_pushed_total | counter | topic, producer |
 * | tributary_producer_events_acknowledged_total | counter | topic, producer, partition |
 * | tributary_producer_events_failed_total | counter | topic, producer, error |
 * | tributary_producer_events_pending | gauge | topic, producer |
 * | tributary_producer_batches_in_flight | gauge | topic, producer |
 * | tributary_producer_wal_bytes | gauge | topic, producer |
 * | tributary_producer_batch_events | histogram | topic, producer |
 * | tributary_producer_ack_latency_seconds | histogram | topic, producer, partition |
 *
 * Counters restart with a producer; an ack latency is measured per batch, from the push
 * of its first event to its acknowledgement.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ProducerObserver } from "../producer/observer.js";
import type { Producer } from "../producer/producer.js";

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536];

/** Metrics shared by the producers of one registry (prom-client refuses a name registered twice). */
const perRegistry = new WeakMap<Registry, ProducerMetrics>();

export class ProducerMetrics {
  readonly #producers = new Set<Producer>();
  readonly #batchEvents: Histogram;
  readonly #latency: Histogram;

  private constructor(registry: Registry) {
    const producers = this.#producers;
    const each = (fn: (p: ReturnType<Producer["counters"]>) => void) => {
      for (const p of producers) fn(p.counters());
    };
    const registers = [registry];
    new Counter({
      name: "tributary_producer_events_pushed_total",
      help: "Events pushed to the producer.",
      labelNames: ["topic", "producer"],
      registers,
      collect() {
        this.reset();
        each((c) => this.inc({ topic: c.topic, producer: c.producer }, c.pushed));
      },
    });
    new Counter({
      name: "tributary_producer_events_acknowledged_total",
      help: "Events the log acknowledged.",
      labelNames: ["topic", "producer", "partition"],
      registers,
      collect() {
        this.reset();
        each((c) => c.acknowledged.forEach((n, partition) => n && this.inc({ topic: c.topic, producer: c.producer, partition: String(partition) }, n)));
      },
    });
    new Counter({
      name: "tributary_producer_events_failed_total",
      help: "Events that failed, by error code.",
      labelNames: ["topic", "producer", "error"],
      registers,
      collect() {
        this.reset();
        each((c) => c.failed.forEach((n, error) => this.inc({ topic: c.topic, producer: c.producer, error }, n)));
      },
    });
    new Gauge({
      name: "tributary_producer_events_pending",
      help: "Events pushed and not yet acknowledged or failed (with a WAL: not yet durable).",
      labelNames: ["topic", "producer"],
      registers,
      collect() {
        this.reset();
        each((c) => this.set({ topic: c.topic, producer: c.producer }, c.pending));
      },
    });
    new Gauge({
      name: "tributary_producer_batches_in_flight",
      help: "Batches sent to the log and not yet answered.",
      labelNames: ["topic", "producer"],
      registers,
      collect() {
        this.reset();
        each((c) => this.set({ topic: c.topic, producer: c.producer }, c.batchesInFlight));
      },
    });
    new Gauge({
      name: "tributary_producer_wal_bytes",
      help: "Bytes of the producer's write-ahead log.",
      labelNames: ["topic", "producer"],
      registers,
      collect() {
        this.reset();
        each((c) => c.walBytes !== undefined && this.set({ topic: c.topic, producer: c.producer }, c.walBytes));
      },
    });
    this.#batchEvents = new Histogram({
      name: "tributary_producer_batch_events",
      help: "Events per batch sent to the log.",
      labelNames: ["topic", "producer"],
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.#latency = new Histogram({
      name: "tributary_producer_ack_latency_seconds",
      help: "Per batch: from the push of its first event to its acknowledgement.",
      labelNames: ["topic", "producer", "partition"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /** The metrics of `registry`, created on first use. */
  static of(registry: Registry): ProducerMetrics {
    let m = perRegistry.get(registry);
    if (!m) perRegistry.set(registry, (m = new ProducerMetrics(registry)));
    return m;
  }

  /** Starts reporting a producer; it stops when the producer closes (see TopicHandle). */
  observe(producer: Producer): ProducerObserver {
    this.#producers.add(producer);
    const { topic, producer: name } = producer.counters();
    const batchEvents = this.#batchEvents.labels({ topic, producer: name });
    const latency = this.#latency;
    const byPartition: ReturnType<Histogram["labels"]>[] = [];
    return {
      batchSent: (_partition, events) => batchEvents.observe(events),
      batchAcked: (partition, _events, latencyMs) =>
        (byPartition[partition] ??= latency.labels({ topic, producer: name, partition: String(partition) })).observe(latencyMs / 1000),
    };
  }

  forget(producer: Producer): void {
    this.#producers.delete(producer);
  }
}
