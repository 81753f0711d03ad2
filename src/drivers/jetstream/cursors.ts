/**
 * Consumer cursors: the next ID to read, per (topic, consumer name, partition), as a key
 * of the cursor bucket (mapping.ts). A commit checks that the topic exists, so a
 * misspelled topic fails instead of storing a cursor nobody reads.
 */
import { BrokerError } from "../../core/errors.js";
import type { EventID } from "../../core/types.js";
import type { Bucket } from "./buckets.js";
import type { Catalog } from "./catalog.js";
import { natsError } from "./errors.js";
import { cursorKey } from "./mapping.js";

const encoder = new TextEncoder();

export class Cursors {
  constructor(
    private readonly catalog: Catalog,
    private readonly bucket: Bucket,
  ) {}

  async commit(topic: string, consumer: string, partition: number, nextOffset: EventID): Promise<void> {
    const stored = await this.catalog.get(topic);
    checkPartition(topic, stored.partitions, partition);
    if (!Number.isSafeInteger(nextOffset) || nextOffset < 0) throw new BrokerError("INVALID_ARGUMENT", `cursor offset must be an integer >= 0, got ${nextOffset}`);
    try {
      const kv = await this.bucket.ensure(stored.replicas);
      await kv.put(cursorKey(topic, consumer, partition), encoder.encode(String(nextOffset)));
    } catch (err) {
      throw natsError(err, `storing cursor '${consumer}' of topic '${topic}' partition ${partition}`);
    }
  }

  async fetch(topic: string, consumer: string, partition: number): Promise<EventID | undefined> {
    let entry;
    try {
      const kv = await this.bucket.open();
      entry = kv && (await kv.get(cursorKey(topic, consumer, partition)));
    } catch (err) {
      throw natsError(err, `reading cursor '${consumer}' of topic '${topic}' partition ${partition}`);
    }
    if (!entry || entry.operation !== "PUT") return undefined;
    return Number(entry.string());
  }
}

export function checkPartition(topic: string, partitions: number, partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
    throw new BrokerError("BAD_PARTITION", `topic '${topic}' has no partition ${partition} (it has ${partitions})`);
  }
}
