/**
 * Broker append throughput: a separate broker process, one gRPC Append stream, 100-byte
 * records in batches of 1,024, a window of batches in flight, fsync `interval`.
 *
 *   npm run bench:broker [-- --runs 5 --seconds 3 --window 4 --batch 1024 --record 100]
 */
import { parseArgs } from "node:util";
import { BrokerClient } from "../src/transport/broker-client.js";
import { encodeRecords } from "../src/wire/records.js";
import { spawnBrokerProcess } from "./lib/broker-process.js";
import { fmt, median, quantile, spread } from "./lib/stats.js";

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

/** One record of `recordBytes` on the wire: 8 bytes of lengths, JSON metadata, padding data. */
function makeBatch(): Uint8Array {
  const metadata = new TextEncoder().encode(JSON.stringify({ sensor: "s-0001", energy: 42 }));
  const data = new Uint8Array(Math.max(0, recordBytes - 8 - metadata.byteLength)).fill(120);
  return encodeRecords(Array.from({ length: batchSize }, () => ({ metadata, data })));
}

async function oneRun(url: string, topic: string, records: Uint8Array, runIndex: number) {
  const client = new BrokerClient(url);
  const stream = client.openAppendStream();
  const rtts: number[] = [];
  let seq = 0;
  let acked = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  const sendOne = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const ack = await stream.append({ topic, partition: 0, producerId: `bench-${runIndex}`, batchSeq: seq++, count: batchSize, records });
      if (ack.error) throw new Error(ack.error.message);
      rtts.push(performance.now() - t0);
      acked += ack.count;
    }
  };
  await Promise.all(Array.from({ length: window }, sendOne));
  const elapsed = (performance.now() - start) / 1000;
  stream.end();
  client.close();
  return { recordsPerSec: acked / elapsed, p50: quantile(rtts, 0.5), p99: quantile(rtts, 0.99), batches: rtts.length };
}

const broker = await spawnBrokerProcess("interval");
try {
  const admin = new BrokerClient(broker.url);
  await admin.waitForReady();
  const records = makeBatch();
  const results = [];
  for (let r = 0; r <= runs; r++) {
    const topic = `append-${r}`;
    await admin.createTopic({ name: topic, partitions: 1 });
    const res = await oneRun(broker.url, topic, records, r);
    if (r === 0) {
      if (!values.json) console.error(`warm-up: ${fmt(res.recordsPerSec)} records/s`);
      continue;
    }
    results.push(res);
    if (!values.json) console.error(`run ${r}/${runs}: ${fmt(res.recordsPerSec)} records/s, batch RTT p50 ${fmt(res.p50, 2)} ms p99 ${fmt(res.p99, 2)} ms`);
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
    medianP50Ms: median(results.map((r) => r.p50)),
    medianP99Ms: median(results.map((r) => r.p99)),
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
