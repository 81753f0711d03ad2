/**
 * The broker alone: append throughput from a separate process over one gRPC Append stream,
 * 100-byte records in batches of 1,024, for 1, 4 and 8 batches in flight, under fsync
 * `always` (group commit, the default) and `interval`.
 */
import { BrokerClient } from "../../src/internal.js";
import { appendLoad, makeBatch } from "../lib/append-load.js";
import { spawnBrokerProcess, type BrokerProcess } from "../lib/broker-process.js";
import type { Scenario } from "../lib/scenario.js";

let topicCounter = 0;
const POLICIES = ["always", "interval"] as const;

export const broker: Scenario<Record<string, BrokerProcess>> = {
  name: "broker",
  title: "Broker append throughput",
  description:
    "A `tributary serve` child process per fsync policy receives 100-byte records in batches of 1,024 over one gRPC Append " +
    "stream from the benchmark process, with 1, 4 or 8 batches in flight, for 3 s per run (1 s with --quick). " +
    "Records/s counts acknowledged records; the round trip is per batch. Under `always` an ack waits for the fdatasync " +
    "that covers its batch (batches arriving meanwhile share the next one); under `interval` it does not.",
  cases: () => POLICIES.flatMap((fsync) => [1, 4, 8].map((window) => ({ fsync, window }))),
  setup: async () => Object.fromEntries(await Promise.all(POLICIES.map(async (p) => [p, await spawnBrokerProcess(p)] as const))),
  async run(params, state, ctx) {
    const url = state[String(params.fsync)]!.url;
    const admin = new BrokerClient(url);
    const topic = `append-${topicCounter++}`;
    try {
      await admin.createTopic({ name: topic, partitions: 1 });
      const r = await appendLoad({ url, topic, records: makeBatch(1024, 100), batchSize: 1024, window: Number(params.window), seconds: ctx.quick ? 1 : 3, producerId: topic });
      await admin.deleteTopic(topic);
      return r;
    } finally {
      admin.close();
    }
  },
  teardown: async (state) => void (await Promise.all(Object.values(state).map((b) => b.stop()))),
  tables: [
    {
      title: "Append throughput",
      columns: [
        { key: "fsync", heading: "fsync" },
        { key: "window", heading: "batches in flight" },
        { key: "recordsPerSec", heading: "records/s", spread: true },
        { key: "p50Ms", heading: "batch RTT p50 ms", digits: 2 },
        { key: "p99Ms", heading: "batch RTT p99 ms", digits: 2 },
      ],
    },
  ],
};
