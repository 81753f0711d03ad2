/**
 * Append load against a broker: one Append stream, fixed batches, `window` in flight, for
 * `seconds`. Reports records/s acknowledged and the batch round trip.
 */
import { BrokerClient } from "../../src/internal.js";
import { encodeRecords } from "../../src/internal.js";
import { quantile } from "./stats.js";

/** A batch of `batchSize` records of `recordBytes` each on the wire (JSON metadata, padding data). */
export function makeBatch(batchSize: number, recordBytes: number): Uint8Array {
  const metadata = new TextEncoder().encode(JSON.stringify({ sensor: "s-0001", energy: 42 }));
  const data = new Uint8Array(Math.max(0, recordBytes - 8 - metadata.byteLength)).fill(120);
  return encodeRecords(Array.from({ length: batchSize }, () => ({ metadata, data })));
}

export async function appendLoad(o: {
  url: string;
  topic: string;
  records: Uint8Array;
  batchSize: number;
  window: number;
  seconds: number;
  producerId: string;
}): Promise<{ recordsPerSec: number; p50Ms: number; p99Ms: number }> {
  const client = new BrokerClient(o.url);
  const stream = client.openAppendStream();
  const rtts: number[] = [];
  let seq = 0;
  let acked = 0;
  const start = performance.now();
  const deadline = start + o.seconds * 1000;
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const ack = await stream.append({ topic: o.topic, partition: 0, producerId: o.producerId, batchSeq: seq++, count: o.batchSize, records: o.records });
      if (ack.error) throw new Error(ack.error.message);
      rtts.push(performance.now() - t0);
      acked += ack.count;
    }
  };
  try {
    await Promise.all(Array.from({ length: o.window }, lane));
  } finally {
    stream.end();
    client.close();
  }
  return { recordsPerSec: acked / ((performance.now() - start) / 1000), p50Ms: quantile(rtts, 0.5), p99Ms: quantile(rtts, 0.99) };
}
