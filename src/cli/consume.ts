import { parseArgs } from "node:util";
import { BrokerClient, type ReadStart } from "../transport/broker-client.js";
import { iterateRecords } from "../wire/records.js";
import { brokerUrl, clientOptions, intFlag, UsageError } from "./usage.js";
import { loadTopicSerializer } from "../client/topic-specs.js";

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
  let start: ReadStart;
  if (from === "earliest" || from === "latest") start = from;
  else start = { offset: intFlag("from", from, 0) };
  const client = new BrokerClient(brokerUrl(values.broker), clientOptions());
  const info = await client.describeTopic(topic);
  const serializer = await loadTopicSerializer(info);
  const partitions = values.partition !== undefined ? [intFlag("partition", values.partition, 0)] : [...Array(info.partitions).keys()];
  const streams = partitions.map((partition) => client.read({ topic, partition, start, follow: values.follow ?? false }));
  const stop = (): void => streams.forEach((s) => s.cancel());
  process.once("SIGINT", stop);
  try {
    await Promise.all(
      streams.map(async (stream) => {
        for await (const res of stream) {
          let id = res.firstEventId;
          for (const rec of iterateRecords(res.records, res.count)) {
            const line = { partition: res.partition, id: id++, timestamp: res.timestampMs, metadata: serializer.deserialize(rec.metadata), data: Buffer.from(rec.data).toString("base64") };
            if (!process.stdout.write(JSON.stringify(line) + "\n")) await new Promise((r) => process.stdout.once("drain", r));
          }
        }
      }),
    );
  } finally {
    process.off("SIGINT", stop);
    client.close();
  }
}
