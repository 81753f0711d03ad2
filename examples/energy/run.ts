/**
 * The energy topic end to end: an embedded broker, a 4-partition topic whose validator,
 * partition selector and serializer come from ./energy.ts, a producer on 2 worker
 * threads pushing valid and invalid events, and a consumer reading one partition back.
 *
 *   npm run build && node dist/examples/energy/run.js
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Driver, ValidationError } from "tributary";

// The topic stores the plugins as written ("./energy.js"); every producing side resolves
// them against its own plugin base directory, here this example's folder.
const here = path.dirname(fileURLToPath(import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tributary-energy-"));
const driver = await Driver.embedded({ dir, plugins: { baseDir: here } });
try {
  await driver.createTopic("energy", {
    partitions: 4,
    validator: "EnergyValidator:./energy.js",
    partitionSelector: "EnergyPartitionSelector:./energy.js",
    serializer: "EnergySerializer:./energy.js",
  });
  const topic = await driver.openTopic("energy");
  const producer = topic.producer({ name: "detector", threadPool: driver.makeThreadPool(2) });
  const futures = [];
  for (let i = 0; i < 1000; i++) futures.push(producer.push({ energy: i % 110 })); // 100..109 are out of range
  await producer.close();

  const rejected = futures.filter((f) => f.error instanceof ValidationError);
  console.log(`pushed ${futures.length} events: ${futures.length - rejected.length} stored, ${rejected.length} rejected`);
  console.log(`first rejection: ${rejected[0]?.error?.message}`);

  // Partition 3 holds energies 75..99 (bins of 25); the serializer stored one byte each.
  const consumer = topic.consumer({ name: "reader", partitions: [3] });
  const events = await consumer.poll(1000, 2000);
  await consumer.close();
  const energies = events.map((e) => (e.metadata as { energy: number }).energy);
  console.log(`partition 3: ${events.length} events, energies ${Math.min(...energies)}..${Math.max(...energies)}`);
} finally {
  await driver.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
