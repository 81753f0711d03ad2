/**
 * The broker's own Prometheus metrics (`tributary serve --metrics-port`): appends, bytes,
 * fsync latency, topics and partitions, consumer lag. Counters and gauges are read from
 * the partition logs and cursor stores when scraped; fsync latency is observed as each
 * fdatasync completes, through the storage I/O seam.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | tributary_broker_append_batches_total | counter | topic, partition |
 * | tributary_broker_append_events_total | counter | topic, partition |
 * | tributary_broker_append_bytes_total | counter | topic, partition |
 * | tributary_broker_partition_next_offset | gauge | topic, partition |
 * | tributary_broker_partition_bytes | gauge | topic, partition |
 * | tributary_broker_topics | gauge | state (serving, offline) |
 * | tributary_broker_partitions | gauge | |
 * | tributary_broker_consumer_lag_events | gauge | topic, partition, consumer |
 * | tributary_broker_fsync_seconds | histogram | |
 */
import http from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Broker } from "./broker.js";
import type { StorageIO } from "./storage-io.js";

const FSYNC_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** An I/O seam that times every fdatasync into `histogram`. */
export function timedStorageIO(io: StorageIO, histogram: Histogram): StorageIO {
  return {
    ...io,
    datasync(fd, callback) {
      const t0 = performance.now();
      io.datasync(fd, (err) => {
        histogram.observe((performance.now() - t0) / 1000);
        callback(err);
      });
    },
    datasyncNow(fd) {
      const t0 = performance.now();
      io.datasyncNow(fd);
      histogram.observe((performance.now() - t0) / 1000);
    },
  };
}

/** The broker's metrics in a registry of their own; `fsync` goes into the broker's I/O. */
export class BrokerMetrics {
  readonly registry = new Registry();
  readonly fsync: Histogram;
  #broker: Broker | undefined;

  constructor() {
    const registers = [this.registry];
    const logs = (fn: (topic: string, partition: number, log: ReturnType<Broker["partition"]>) => void) => {
      for (const topic of this.#broker?.servedTopics() ?? []) topic.logs.forEach((log, p) => fn(topic.meta.name, p, log));
    };
    const counter = (name: string, help: string, pick: (a: { batches: number; events: number; bytes: number }) => number) =>
      new Counter({
        name,
        help,
        labelNames: ["topic", "partition"],
        registers,
        collect() {
          this.reset();
          logs((topic, partition, log) => this.inc({ topic, partition: String(partition) }, pick(log.appended)));
        },
      });
    counter("tributary_broker_append_batches_total", "Batches appended since the broker started (re-sent duplicates not counted).", (a) => a.batches);
    counter("tributary_broker_append_events_total", "Events appended since the broker started.", (a) => a.events);
    counter("tributary_broker_append_bytes_total", "Record bytes appended since the broker started.", (a) => a.bytes);
    new Gauge({
      name: "tributary_broker_partition_next_offset",
      help: "The ID the next event of the partition gets.",
      labelNames: ["topic", "partition"],
      registers,
      collect() {
        this.reset();
        logs((topic, partition, log) => this.set({ topic, partition: String(partition) }, log.nextOffset));
      },
    });
    new Gauge({
      name: "tributary_broker_partition_bytes",
      help: "Bytes the partition's segments hold.",
      labelNames: ["topic", "partition"],
      registers,
      collect() {
        this.reset();
        logs((topic, partition, log) => this.set({ topic, partition: String(partition) }, log.sizeBytes));
      },
    });
    const self = this;
    new Gauge({
      name: "tributary_broker_topics",
      help: "Topics served, and left offline because their metadata could not be read.",
      labelNames: ["state"],
      registers,
      collect() {
        const served = [...(self.#broker?.servedTopics() ?? [])].length;
        this.set({ state: "serving" }, served);
        this.set({ state: "offline" }, self.#broker?.offlineTopics ?? 0);
      },
    });
    new Gauge({
      name: "tributary_broker_partitions",
      help: "Partitions of the topics served.",
      registers,
      collect() {
        let n = 0;
        logs(() => n++);
        this.set(n);
      },
    });
    new Gauge({
      name: "tributary_broker_consumer_lag_events",
      help: "Events of the partition after the consumer's cursor (next offset minus cursor).",
      labelNames: ["topic", "partition", "consumer"],
      registers,
      collect() {
        this.reset();
        for (const topic of self.#broker?.servedTopics() ?? []) {
          for (const { consumer, partition, offset } of topic.cursors.entries()) {
            const log = topic.logs[partition];
            if (log) this.set({ topic: topic.meta.name, partition: String(partition), consumer }, Math.max(0, log.nextOffset - offset));
          }
        }
      },
    });
    this.fsync = new Histogram({ name: "tributary_broker_fsync_seconds", help: "Time of each fdatasync of the storage.", buckets: FSYNC_BUCKETS, registers });
  }

  /** The broker whose state the gauges and counters read. */
  attach(broker: Broker): void {
    this.#broker = broker;
  }
}

/** Serves `GET /metrics` (Prometheus text) on host:port; resolves with the bound port. */
export async function serveMetrics(metrics: BrokerMetrics, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "/").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
