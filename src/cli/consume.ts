import { parseArgs } from "node:util";
import { iterateRecords } from "../core/records.js";
import type { StartPosition } from "../core/types.js";
import { connectDriver } from "../drivers/registry.js";
import { loadSerializer } from "../pipeline/loader.js";
import { defaultPluginPolicy, resolveSpec } from "../pipeline/spec.js";
import { brokerUrl, clientOptions, intFlag, UsageError } from "./usage.js";

/** `tributary consume TOPIC`: one JSON line per event on stdout. */
export async function consumeCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      broker: { type: "string" },
      partition: { type: "string" },
      from: { type: "string" },
      follow: { type: "boolean" },
    },
  });
  const topic = positionals[0];
  if (!topic) throw new UsageError("consume needs a TOPIC");
  const from = values.from ?? "earliest";
  let start: StartPosition;
  if (from === "earliest" || from === "latest") start = from;
  else start = { offset: intFlag("from", from, 0) };
  const log = await connectDriver(brokerUrl(values.broker), { tributary: clientOptions() });
  try {
    const info = await log.describeTopic(topic);
    const serializer = await loadSerializer(resolveSpec("serializer", info.pipeline.serializer, defaultPluginPolicy()));
    const partitions = values.partition !== undefined ? [intFlag("partition", values.partition, 0)] : [...Array(info.partitions).keys()];
    const streams = partitions.map((partition) => log.read({ topic, partition, start, follow: values.follow ?? false }));
    const stop = (): void => streams.forEach((s) => s.cancel());
    process.once("SIGINT", stop);
    try {
      await Promise.all(
        streams.map(async (stream) => {
          for await (const batch of stream) {
            let i = 0;
            for (const rec of iterateRecords(batch.records, batch.count)) {
              const id = batch.ids ? batch.ids[i]! : batch.firstEventId + i;
              const timestamp = batch.timestamps ? batch.timestamps[i]! : batch.timestampMs;
              i++;
              const line = { partition: batch.partition, id, timestamp, metadata: serializer.deserialize(rec.metadata), data: Buffer.from(rec.data).toString("base64") };
              if (!process.stdout.write(JSON.stringify(line) + "\n")) await new Promise((r) => process.stdout.once("drain", r));
            }
          }
        }),
      );
    } finally {
      process.off("SIGINT", stop);
    }
  } finally {
    await log.close();
  }
}
