/**
 * `tributary consume TOPIC`: one JSON line per event on stdout,
 * `{"partition":p,"id":i,"timestamp":ms,"metadata":…,"data":"<base64>"}`, with `"key"`
 * and `"headers"` after `id` for an event pushed with them.
 *
 * Without `--name` it reads through the driver's reader and leaves nothing on the log.
 * With `--name` it is the library's named Consumer: it resumes from the name's cursors
 * and acknowledges every event once its line is written.
 */
import { Driver } from "../client/driver.js";
import { BrokerError } from "../core/errors.js";
import { iterateRecords } from "../core/records.js";
import type { StartPosition, TopicDescription } from "../core/types.js";
import { connectDriver } from "../drivers/registry.js";
import type { LogDriver, ReadBatch } from "../drivers/contract.js";
import { loadSerializer } from "../pipeline/loader.js";
import { defaultPluginPolicy, resolveSpec } from "../pipeline/spec.js";
import type { Serializer } from "../pipeline/contracts.js";
import { onInterrupt } from "./interrupt.js";
import { LineOutput } from "./output.js";
import { clientOptions, partitionsOf } from "./usage.js";

export interface ConsumeOptions {
  broker: string;
  from: StartPosition;
  follow?: boolean;
  partition?: number[];
  max?: number;
  name?: string;
}

/** Prints an event; returns a promise to await only while stdout's reader is behind. */
type Print = (e: Printed) => Promise<void> | undefined;

/** One event as printed. */
interface Printed {
  partition: number;
  id: number;
  timestamp: number;
  metadata: unknown;
  data: Uint8Array;
  key?: string | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
}

export async function consume(topic: string, options: ConsumeOptions): Promise<void> {
  const out = new LineOutput();
  const interrupt = onInterrupt();
  // Ctrl-C, a reader that went away, or --max reached: stop reading, end quietly.
  const stop = new AbortController();
  const stopOn = (s: AbortSignal): void => s.addEventListener("abort", () => stop.abort(), { once: true });
  stopOn(interrupt.signal);
  stopOn(out.gone);
  let printed = 0;
  const print: Print = (e) => {
    // JSON.stringify leaves out a key or headers that are undefined.
    out.line(JSON.stringify({ partition: e.partition, id: e.id, key: e.key, headers: e.headers, timestamp: e.timestamp, metadata: e.metadata, data: Buffer.from(e.data).toString("base64") }));
    printed++;
    return out.blocked ? out.drained() : undefined;
  };
  try {
    if (options.max === 0) return;
    const reachedMax = (): boolean => printed === options.max;
    if (options.name !== undefined) await consumeNamed(topic, options.name, options, stop, print, reachedMax);
    else await consumeAnonymous(topic, options, stop, print, reachedMax);
  } finally {
    await out.end();
    interrupt.dispose();
  }
}

function checkPartitions(t: TopicDescription, wanted: number[] | undefined): number[] {
  const all = [...Array(t.partitions).keys()];
  for (const p of wanted ?? []) {
    if (p >= t.partitions) throw new BrokerError("BAD_PARTITION", `${partitionsOf(t.name, t.partitions)}; there is no partition ${p}`);
  }
  return wanted && wanted.length > 0 ? [...new Set(wanted)] : all;
}

/** Through the library's Consumer: resumes from the name's cursors, acknowledges what was printed. */
async function consumeNamed(topic: string, name: string, options: ConsumeOptions, stop: AbortController, print: Print, reachedMax: () => boolean): Promise<void> {
  const driver = await Driver.connect(options.broker, { tributary: clientOptions() });
  try {
    const handle = await driver.openTopic(topic);
    const partitions = checkPartitions(handle.description, options.partition);
    const consumer = handle.consumer({ name, partitions, start: options.from, follow: options.follow ?? false, signal: stop.signal });
    for await (const event of consumer) {
      await print(event);
      // Coalesced by the consumer; closing it (leaving the loop) waits for the commits under way.
      event.acknowledge().catch(() => {});
      if (stop.signal.aborted || reachedMax()) break;
    }
  } finally {
    await driver.close();
  }
}

/** Through the driver's reader: one read per partition, nothing stored on the log. */
async function consumeAnonymous(topic: string, options: ConsumeOptions, stop: AbortController, print: Print, reachedMax: () => boolean): Promise<void> {
  const log: LogDriver = await connectDriver(options.broker, { tributary: clientOptions() });
  try {
    const info = await log.describeTopic(topic);
    const partitions = checkPartitions(info, options.partition);
    const serializer = await loadSerializer(resolveSpec("serializer", info.pipeline.serializer, defaultPluginPolicy()));
    const follow = options.follow ?? false;
    // A finite read ends where each partition ended when reading began (as the Consumer does).
    const ends = follow ? undefined : new Map(info.partitionInfo.map((p) => [p.partition, p.nextOffset]));
    const streams = partitions.map((partition) => log.read({ topic, partition, start: options.from, follow, maxEvents: options.max }));
    const cancel = (): void => streams.forEach((s) => s.cancel());
    stop.signal.addEventListener("abort", cancel, { once: true });
    try {
      await Promise.all(streams.map((stream, i) => printStream(stream, serializer, ends?.get(partitions[i]!), stop, print, reachedMax)));
    } finally {
      stop.signal.removeEventListener("abort", cancel);
      cancel();
    }
  } finally {
    await log.close();
  }
}

async function printStream(
  stream: AsyncIterable<ReadBatch>,
  serializer: Serializer,
  end: number | undefined,
  stop: AbortController,
  print: Print,
  reachedMax: () => boolean,
): Promise<void> {
  if (end === 0) return;
  for await (const batch of stream) {
    let i = 0;
    for (const rec of iterateRecords(batch.records, batch.count)) {
      if (stop.signal.aborted) return;
      const id = batch.ids ? batch.ids[i]! : batch.firstEventId + i;
      const timestamp = batch.timestamps ? batch.timestamps[i]! : batch.timestampMs;
      i++;
      if (end !== undefined && id >= end) return;
      const wait = print({ partition: batch.partition, id, timestamp, metadata: serializer.deserialize(rec.metadata), data: rec.data, key: rec.key, headers: rec.headers });
      if (wait) await wait;
      if (reachedMax()) return stop.abort();
      if (end !== undefined && id === end - 1) return;
    }
  }
}
