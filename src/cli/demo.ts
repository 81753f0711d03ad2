/**
 * `tributary demo` (and `npm start`): the showcase. Produces events through the worker
 * pool into a 4-partition topic (JSON Schema validator, key-hash selector), flushes,
 * reads everything back to check the count and the per-partition order, and prints the
 * throughput. Without a broker it runs one embedded in a temporary directory, removed
 * at the end, on Ctrl-C too.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Driver } from "../client/driver.js";
import { iterateRecords } from "../core/records.js";
import { connectDriver } from "../drivers/registry.js";
import { INTERRUPTED_EXIT_CODE, onInterrupt } from "./interrupt.js";
import { CpuMeter, placementLabel, producerSettings, type PipelineFlags } from "./producing.js";
import { Progress } from "./progress.js";
import { clientOptions } from "./usage.js";

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

export interface DemoOptions extends PipelineFlags {
  events: number;
  partitions: number;
  broker?: string;
  dir?: string;
}

export async function demo(options: DemoOptions): Promise<void> {
  const tempData = options.broker || options.dir ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), "tributary-showcase-"));
  const removeTemp = (): void => {
    if (tempData) fs.rmSync(tempData, { recursive: true, force: true });
  };
  // Ctrl-C: stop producing, close, remove the temporary directory; a second Ctrl-C removes it at once.
  const interrupt = onInterrupt(removeTemp);
  const { signal } = interrupt;
  let progress: Progress | undefined;
  try {
    const driver = options.broker ? await Driver.connect(options.broker, { tributary: clientOptions(), signal }) : await Driver.embedded({ dir: options.dir ?? tempData! });
    try {
      if (tempData) console.log(`embedded broker on ${driver.url}, data in temporary directory ${tempData} (removed at the end)`);
      const topicName = `showcase-${Date.now()}`;
      await driver.createTopic(topicName, {
        partitions: options.partitions,
        validator: { module: "json-schema", config: { schema: SHOWCASE_SCHEMA } },
        partitionSelector: "key-hash",
        serializer: "json",
      });
      const topic = await driver.openTopic(topicName);
      const pool = driver.makeThreadPool(options.threads);
      const producer = topic.producer({ name: "showcase", threadPool: pool, ...producerSettings(options) });
      // Failures are counted in the closing line, not logged one by one.
      producer.on("error", () => {});
      const { events } = options;
      console.log(
        `producing ${events.toLocaleString("en-US")} events to '${topicName}' (${options.partitions} partitions) on ${driver.url}: ` +
          `${placementLabel(pool, options.threads)}, ${options.ordering} ordering, batch size ${options.batchSize}`,
      );
      progress = new Progress("produce", events);
      const now = Date.now();
      const start = performance.now();
      const cpu = new CpuMeter();
      for (let i = 0; i < events; i++) {
        const e = showcaseEvent(i, now);
        producer.push(e, undefined, { key: e.sensor as string });
        if (!producer.hasCapacity) {
          progress.update(i);
          await producer.ready({ signal });
        }
      }
      await producer.flush({ signal });
      const seconds = (performance.now() - start) / 1000;
      const cpuPerEvent = cpu.perEvent(events);
      progress.done();
      const stats = await producer.stats();
      console.log(
        `acknowledged ${stats.acknowledged.toLocaleString("en-US")} events in ${seconds.toFixed(2)} s: ` +
          `${Math.round(stats.acknowledged / seconds).toLocaleString("en-US")} events/s ` +
          `(${stats.batches.toLocaleString("en-US")} batches, mean ${Math.round(stats.meanBatchEvents)} events, ${stats.failed} failed; ` +
          `${cpuPerEvent} µs CPU per event; ${placementLabel(pool, options.threads, topic)})`,
      );
      await producer.close();
      progress = undefined;
      await verify(driver.url, topicName, options.partitions, events, options.ordering === "strict", signal);
    } finally {
      progress?.stop();
      // Interrupted too, the producer delivers what it was given (at most its pending
      // limit, well under a second): cutting that short with close({ timeoutMs: 0 })
      // could hang the library. A close that takes too long is given up.
      await closeWithin(driver, signal.aborted ? INTERRUPTED_CLOSE_MS : Infinity);
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  } finally {
    removeTemp();
    interrupt.dispose();
  }
  if (interrupt.received) {
    console.error(`tributary: demo interrupted (${interrupt.received})${tempData ? `; removed ${tempData}` : ""}`);
    // Nothing of the run is wanted any more: exit, whatever is still open.
    process.exit(INTERRUPTED_EXIT_CODE);
  }
}

/** How long an interrupted demo waits for its driver to close. */
const INTERRUPTED_CLOSE_MS = 5000;

async function closeWithin(driver: Driver, ms: number): Promise<void> {
  if (ms === Infinity) {
    await driver.close();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([driver.close(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

/** Reads every partition back: the count must match, each partition in push order (strict) or each event once (loose). */
async function verify(url: string, topic: string, partitions: number, expected: number, strict: boolean, signal: AbortSignal): Promise<void> {
  const log = await connectDriver(url, { tributary: clientOptions() });
  const progress = new Progress("verify ", expected);
  const seen = new Uint8Array(expected);
  let total = 0;
  const problems: string[] = [];
  try {
    for (let p = 0; p < partitions; p++) {
      let lastSeq = -1;
      let nextId = 0;
      const reader = log.read({ topic, partition: p, start: "earliest", follow: false });
      const cancel = (): void => reader.cancel();
      signal.addEventListener("abort", cancel, { once: true });
      for await (const res of reader) {
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
      signal.removeEventListener("abort", cancel);
      if (signal.aborted) throw signal.reason;
    }
  } catch (err) {
    progress.stop();
    throw err;
  } finally {
    await log.close();
  }
  progress.done();
  if (total !== expected) problems.push(`read ${total} events, expected ${expected}`);
  if (problems.length > 0) throw new Error(`verification failed: ${problems.join("; ")}`);
  console.log(`verified: ${total.toLocaleString("en-US")} events, ${strict ? "every partition in push order" : "each exactly once"}, IDs contiguous`);
}
