/**
 * The wire without the pipeline: events serialized with JSON.stringify on the main thread
 * and appended in hand-built batches over one Append stream, a window of batches in flight.
 * What tributary's producer is compared against in the overhead scenario.
 */
import { BrokerClient } from "../../src/internal.js";
import { encodeRecords } from "../../src/internal.js";

const encoder = new TextEncoder();

export async function rawAppend(options: {
  url: string;
  topic: string;
  partitions: number;
  events: number;
  batchSize: number;
  window: number;
  makeEvent(i: number): unknown;
  validate?(metadata: unknown): void;
}): Promise<{ eventsPerSec: number }> {
  const client = new BrokerClient(options.url);
  const stream = client.openAppendStream();
  const inFlight = new Set<Promise<unknown>>();
  const seqs = new Array(options.partitions).fill(0);
  const start = performance.now();
  let partition = 0;
  try {
    for (let first = 0; first < options.events; first += options.batchSize) {
      const n = Math.min(options.batchSize, options.events - first);
      const records = new Array(n);
      for (let j = 0; j < n; j++) {
        const md = options.makeEvent(first + j);
        options.validate?.(md);
        records[j] = { metadata: encoder.encode(JSON.stringify(md)) };
      }
      const p = stream.append({ topic: options.topic, partition, producerId: "raw", batchSeq: seqs[partition]++, count: n, records: encodeRecords(records) }).then((ack) => {
        if (ack.error) throw new Error(ack.error.message);
      });
      partition = (partition + 1) % options.partitions;
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p)).catch(() => {});
      if (inFlight.size >= options.window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return { eventsPerSec: options.events / ((performance.now() - start) / 1000) };
  } finally {
    stream.end();
    client.close();
  }
}
