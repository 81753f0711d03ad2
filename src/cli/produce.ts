/**
 * `tributary produce` (and `npm start`): the showcase. Produces events through the worker
 * pool into a 4-partition topic (JSON Schema validator, key-hash selector), flushes,
 * reads everything back to check the count and the per-partition order, and prints the
 * throughput.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Driver } from "../client/driver.js";
import { iterateRecords } from "../core/records.js";
import { BatchSize, Ordering, type BatchSizeOption } from "../core/types.js";
import { connectDriver } from "../drivers/registry.js";
import { Progress } from "./progress.js";
import { clientOptions, intFlag, UsageError } from "./usage.js";

/** The showcase's event schema: what the validator enforces on every event. */
export const SHOWCASE_SCHEMA = {
  type: "object",
  required: ["seq", "sensor", "energy", "unit", "ts"],
  properties: {
    seq: { type: "integer", minimum: 0 },
    sensor: { type: "string", pattern: "^sensor-[0-9]{3}$" },
    energy: { type: "number", minimum: 0, maximum: 1000 },
    unit: { enum: ["kWh", "MWh"] },
    site: { type: "string", maxLength: 32 },
    ts: { type: "integer" },
  },
  additionalProperties: false,
};

/** One showcase event: about 100 bytes of JSON. */
export function showcaseEvent(seq: number, now: number): Record<string, unknown> {
  return { seq, sensor: `sensor-${String(seq % 997).padStart(3, "0")}`, energy: (seq * 7919) % 1000, unit: "kWh", site: "north-ridge", ts: now };
}

export async function produceCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      events: { type: "string" },
      threads: { type: "string" },
      ordering: { type: "string" },
      "batch-size": { type: "string" },
      partitions: { type: "string" },
      broker: { type: "string" },
      dir: { type: "string" },
    },
  });
  const events = intFlag("events", values.events, 1_000_000);
  const threads = intFlag("threads", values.threads, Math.max(1, os.availableParallelism()));
  const partitions = intFlag("partitions", values.partitions, 4);
  if (partitions < 1) throw new UsageError("--partitions must be at least 1");
  const ordering = values.ordering ?? "strict";
  if (ordering !== "strict" && ordering !== "loose") throw new UsageError(`--ordering must be strict or loose, got '${ordering}'`);
  const batchFlag = values["batch-size"] ?? "adaptive";
  const batchSize: BatchSizeOption = batchFlag === "adaptive" ? BatchSize.Adaptive : intFlag("batch-size", batchFlag, 0);
  if (batchSize === 0) throw new UsageError("--batch-size must be 'adaptive' or an integer > 0");

  const tempData = values.broker || values.dir ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), "tributary-showcase-"));
  const driver = values.broker ? await Driver.connect(values.broker, { tributary: clientOptions() }) : await Driver.embedded({ dir: values.dir ?? tempData! });
  try {
    const topicName = `showcase-${Date.now()}`;
    await driver.createTopic(topicName, {
      partitions,
      validator: { module: "json-schema", config: { schema: SHOWCASE_SCHEMA } },
      partitionSelector: "key-hash",
      serializer: "json",
    });
    const topic = await driver.openTopic(topicName);
    const pool = driver.makeThreadPool(threads);
    const producer = topic.producer({
      name: "showcase",
      threadPool: pool,
      batchSize,
      ordering: ordering === "strict" ? Ordering.Strict : Ordering.Loose,
    });
    console.log(
      `producing ${events.toLocaleString("en-US")} events to '${topicName}' (${partitions} partitions) on ${driver.url}: ` +
        `${threads === 0 ? "inline" : `${threads} pipeline threads`}, ${ordering} ordering, batch size ${batchFlag}`,
    );
    const progress = new Progress("produce", events);
    const now = Date.now();
    const start = performance.now();
    for (let i = 0; i < events; i++) {
      const e = showcaseEvent(i, now);
      producer.push(e, undefined, { key: e.sensor as string });
      if (!producer.hasCapacity) {
        progress.update(i);
        await producer.ready();
      }
    }
    await producer.flush();
    const seconds = (performance.now() - start) / 1000;
    progress.done();
    const stats = await producer.stats();
    await producer.close();
    console.log(
      `acknowledged ${stats.acknowledged.toLocaleString("en-US")} events in ${seconds.toFixed(2)} s: ` +
        `${Math.round(stats.acknowledged / seconds).toLocaleString("en-US")} events/s ` +
        `(${stats.batches.toLocaleString("en-US")} batches, mean ${Math.round(stats.meanBatchEvents)} events, ${stats.failed} failed)`,
    );
    await verify(driver.url, topicName, partitions, events, ordering === "strict");
  } finally {
    await driver.close();
    if (tempData) fs.rmSync(tempData, { recursive: true, force: true });
  }
}

/** Reads every partition back: the count must match, each partition in push order (strict) or each event once (loose). */
async function verify(url: string, topic: string, partitions: number, expected: number, strict: boolean): Promise<void> {
  const log = await connectDriver(url, { tributary: clientOptions() });
  const progress = new Progress("verify ", expected);
  const seen = new Uint8Array(expected);
  let total = 0;
  const problems: string[] = [];
  try {
    for (let p = 0; p < partitions; p++) {
      let lastSeq = -1;
      let nextId = 0;
      for await (const res of log.read({ topic, partition: p, start: "earliest", follow: false })) {
        let id = res.firstEventId;
        for (const rec of iterateRecords(res.records, res.count)) {
          const seq = JSON.parse(Buffer.from(rec.metadata.buffer, rec.metadata.byteOffset, rec.metadata.byteLength).toString("utf8")).seq as number;
          if (id !== nextId && problems.length < 5) problems.push(`partition ${p}: ID ${id} where ${nextId} was expected`);
          if (strict && seq <= lastSeq && problems.length < 5) problems.push(`partition ${p}: event ${seq} after ${lastSeq}`);
          if (seen[seq]++ && problems.length < 5) problems.push(`event ${seq} stored twice`);
          lastSeq = seq;
          nextId = ++id;
          total++;
        }
        progress.update(total);
      }
    }
  } finally {
    await log.close();
  }
  progress.done();
  if (total !== expected) problems.push(`read ${total} events, expected ${expected}`);
  if (problems.length > 0) throw new Error(`verification failed: ${problems.join("; ")}`);
  console.log(`verified: ${total.toLocaleString("en-US")} events, ${strict ? "every partition in push order" : "each exactly once"}, IDs contiguous`);
}
