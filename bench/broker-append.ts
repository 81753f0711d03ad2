/**
 * Broker append throughput (issue: broker): a separate broker process, one gRPC Append
 * stream, 100-byte records in batches of 1,024, a window of batches in flight, fsync
 * `interval`. The same measurement is the `broker` scenario of `npm run bench`.
 *
 *   npm run bench:broker [-- --runs 5 --seconds 3 --window 4 --batch 1024 --record 100 --json]
 */
import { parseArgs } from "node:util";
import { BrokerClient } from "../src/internal.js";
import { appendLoad, makeBatch } from "./lib/append-load.js";
import { spawnBrokerProcess } from "./lib/broker-process.js";
import { fmt, median, spread } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    seconds: { type: "string", default: "3" },
    window: { type: "string", default: "4" },
    batch: { type: "string", default: "1024" },
    record: { type: "string", default: "100" },
    json: { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const window = Number(values.window);
const batchSize = Number(values.batch);
const recordBytes = Number(values.record);

const broker = await spawnBrokerProcess("interval");
try {
  const admin = new BrokerClient(broker.url);
  await admin.waitForReady();
  const records = makeBatch(batchSize, recordBytes);
  const results = [];
  for (let r = 0; r <= runs; r++) {
    const topic = `append-${r}`;
    await admin.createTopic({ name: topic, partitions: 1 });
    const res = await appendLoad({ url: broker.url, topic, records, batchSize, window, seconds, producerId: `bench-${r}` });
    await admin.deleteTopic(topic);
    if (r === 0) {
      if (!values.json) console.error(`warm-up: ${fmt(res.recordsPerSec)} records/s`);
      continue;
    }
    results.push(res);
    if (!values.json) console.error(`run ${r}/${runs}: ${fmt(res.recordsPerSec)} records/s, batch RTT p50 ${fmt(res.p50Ms, 2)} ms p99 ${fmt(res.p99Ms, 2)} ms`);
  }
  admin.close();
  const summary = {
    scenario: "broker-append",
    recordBytes,
    batchSize,
    window,
    runs,
    medianRecordsPerSec: median(results.map((r) => r.recordsPerSec)),
    spread: spread(results.map((r) => r.recordsPerSec)),
    medianP50Ms: median(results.map((r) => r.p50Ms)),
    medianP99Ms: median(results.map((r) => r.p99Ms)),
  };
  if (values.json) console.log(JSON.stringify(summary));
  else
    console.log(
      `broker append, ${recordBytes}-byte records, batches of ${batchSize}, ${window} in flight, fsync interval: ` +
        `median ${fmt(summary.medianRecordsPerSec)} records/s (spread ${fmt(summary.spread * 100, 1)}%), ` +
        `batch RTT p50 ${fmt(summary.medianP50Ms, 2)} ms, p99 ${fmt(summary.medianP99Ms, 2)} ms over ${runs} runs`,
    );
} finally {
  await broker.stop();
}
