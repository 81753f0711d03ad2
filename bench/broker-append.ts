/**
 * Broker append throughput and batch round trip, per fsync policy, in one run: a
 * separate broker process per policy, one gRPC Append stream, 100-byte records in
 * batches of 1,024, a window of batches in flight. The runs of the policies alternate,
 * so a change in the machine's load hits both alike. The `broker` scenario of
 * `npm run bench` measures the same.
 *
 *   npm run bench:broker [-- --fsync always,interval --runs 5 --seconds 3 --window 4 --batch 1024 --record 100 --json]
 */
import { parseArgs } from "node:util";
import { BrokerClient } from "../src/internal.js";
import { appendLoad, makeBatch } from "./lib/append-load.js";
import { spawnBrokerProcess, type BrokerProcess } from "./lib/broker-process.js";
import { fmt, median, spread } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    fsync: { type: "string", default: "always,interval" },
    runs: { type: "string", default: "5" },
    seconds: { type: "string", default: "3" },
    window: { type: "string", default: "4" },
    batch: { type: "string", default: "1024" },
    record: { type: "string", default: "100" },
    json: { type: "boolean", default: false },
  },
});
const policies = values.fsync.split(",");
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const window = Number(values.window);
const batchSize = Number(values.batch);
const recordBytes = Number(values.record);
const say = (line: string): void => void (!values.json && console.error(line));

const brokers = new Map<string, BrokerProcess>();
try {
  for (const policy of policies) brokers.set(policy, await spawnBrokerProcess(policy));
  const records = makeBatch(batchSize, recordBytes);
  const results = new Map<string, { recordsPerSec: number; p50Ms: number; p99Ms: number }[]>(policies.map((p) => [p, []]));
  for (let r = 0; r <= runs; r++) {
    for (const policy of policies) {
      const broker = brokers.get(policy)!;
      const admin = new BrokerClient(broker.url);
      await admin.waitForReady();
      const topic = `append-${r}`;
      await admin.createTopic({ name: topic, partitions: 1 });
      const res = await appendLoad({ url: broker.url, topic, records, batchSize, window, seconds, producerId: `bench-${r}` });
      await admin.deleteTopic(topic);
      admin.close();
      const label = `fsync ${policy}, ${r === 0 ? "warm-up" : `run ${r}/${runs}`}`;
      say(`${label}: ${fmt(res.recordsPerSec)} records/s, batch RTT p50 ${fmt(res.p50Ms, 2)} ms p99 ${fmt(res.p99Ms, 2)} ms`);
      if (r > 0) results.get(policy)!.push(res);
    }
  }
  const summary = policies.map((policy) => {
    const rs = results.get(policy)!;
    return {
      scenario: "broker-append",
      fsync: policy,
      recordBytes,
      batchSize,
      window,
      runs,
      medianRecordsPerSec: median(rs.map((r) => r.recordsPerSec)),
      spread: spread(rs.map((r) => r.recordsPerSec)),
      medianP50Ms: median(rs.map((r) => r.p50Ms)),
      medianP99Ms: median(rs.map((r) => r.p99Ms)),
    };
  });
  if (values.json) console.log(JSON.stringify(summary));
  else
    for (const s of summary)
      console.log(
        `broker append, fsync ${s.fsync}, ${recordBytes}-byte records, batches of ${batchSize}, ${window} in flight: ` +
          `median ${fmt(s.medianRecordsPerSec)} records/s (spread ${fmt(s.spread * 100, 1)}%), ` +
          `batch RTT p50 ${fmt(s.medianP50Ms, 2)} ms, p99 ${fmt(s.medianP99Ms, 2)} ms over ${runs} runs`,
      );
} finally {
  for (const broker of brokers.values()) await broker.stop();
}
