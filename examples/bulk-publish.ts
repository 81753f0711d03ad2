/**
 * Bulk publishing: `pushMany` takes an (async) iterable of events and yields one ack per
 * event, in input order, pulling from the source only while the producer has capacity.
 *
 *   npm run build && node dist/examples/bulk-publish.js [events]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Driver } from "tributary";

const total = Number(process.argv[2] ?? 100_000);

/** A source that produces lines lazily, like a file or a socket would. */
async function* readings(n: number) {
  for (let i = 0; i < n; i++) yield { metadata: { seq: i, reading: Math.sin(i) }, key: `meter-${i % 50}` };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tributary-bulk-"));
const driver = await Driver.embedded({ dir });
try {
  await driver.createTopic("readings", { partitions: 4, partitionSelector: "key-hash" });
  const topic = await driver.openTopic("readings");
  const producer = topic.producer({ name: "bulk", threadPool: driver.makeThreadPool("auto") });
  const perPartition = [0, 0, 0, 0];
  let failed = 0;
  const start = performance.now();
  for await (const ack of producer.pushMany(readings(total))) {
    if (ack.error) failed++;
    else perPartition[ack.partition]!++;
  }
  const seconds = (performance.now() - start) / 1000;
  await producer.close();
  console.log(`${total} events acknowledged in ${seconds.toFixed(2)} s (${Math.round(total / seconds)} events/s), ${failed} failed`);
  console.log(`per partition: ${perPartition.join(", ")}`);
} finally {
  await driver.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
