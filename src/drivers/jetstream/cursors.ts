/**
 * Consumer cursors: the next ID to read, per (topic, consumer name, partition), as a key
 * of the cursor bucket (mapping.ts). A commit checks that the topic exists, so a
 * misspelled topic fails instead of storing a cursor nobody reads.
 *
 * Fencing, as on the tributary broker: a claim raises the cursor's generation, and a
 * commit must carry the current one (a commit without one is accepted only while nobody
 * claimed the cursor). Claims and commits are compare-and-set writes on the key's
 * revision, retried when another writer came between the read and the write. A value is
 * `{"next":N|null,"gen":G}`; a bare number (before fencing) is generation 0.
 */
import { BrokerError } from "../../core/errors.js";
import type { EventID } from "../../core/types.js";
import type { KV, KvEntry } from "@nats-io/kv";
import type { Bucket } from "./buckets.js";
import type { Catalog } from "./catalog.js";
import { apiCode, JS_ERR, natsError } from "./errors.js";
import { cursorKey } from "./mapping.js";

const encoder = new TextEncoder();
/** Compare-and-set attempts before a claim or commit gives up (others keep winning the race). */
const CAS_ATTEMPTS = 20;

interface Stored {
  next: EventID | undefined;
  generation: number;
}

function decode(entry: KvEntry | null | undefined): Stored | undefined {
  if (!entry || entry.operation !== "PUT") return undefined;
  const text = entry.string();
  if (/^\d+$/.test(text)) return { next: Number(text), generation: 0 };
  try {
    const v = JSON.parse(text) as { next: number | null; gen: number };
    if ((v.next === null || Number.isSafeInteger(v.next)) && Number.isSafeInteger(v.gen)) return { next: v.next ?? undefined, generation: v.gen };
  } catch {
    // reported below
  }
  throw new BrokerError("CORRUPT", `cursor ${entry.key} holds ${JSON.stringify(text.slice(0, 80))}, not a cursor`);
}

function encode(s: Stored): Uint8Array {
  return encoder.encode(JSON.stringify({ next: s.next ?? null, gen: s.generation }));
}

export class Cursors {
  constructor(
    private readonly catalog: Catalog,
    private readonly bucket: Bucket,
  ) {}

  async commit(topic: string, consumer: string, partition: number, nextOffset: EventID, generation?: number): Promise<void> {
    const stored = await this.catalog.get(topic);
    checkPartition(topic, stored.partitions, partition);
    if (!Number.isSafeInteger(nextOffset) || nextOffset < 0) throw new BrokerError("INVALID_ARGUMENT", `cursor offset must be an integer >= 0, got ${nextOffset}`);
    const what = `storing cursor '${consumer}' of topic '${topic}' partition ${partition}`;
    await this.#update(stored.replicas, topic, consumer, partition, what, (current) => {
      const claimed = current?.generation ?? 0;
      if (generation === undefined) {
        if (claimed > 0) throw new BrokerError("FENCED", `${what}: the cursor was claimed (generation ${claimed}); a commit must carry its generation`);
      } else if (generation > claimed) {
        throw new BrokerError("FENCED", `${what}: generation ${generation} was never issued (the cursor is at ${claimed})`);
      } else if (generation < claimed) {
        throw new BrokerError("FENCED", `${what}: generation ${generation} was replaced by ${claimed}, a newer consumer of this name`);
      }
      return { next: nextOffset, generation: claimed };
    });
  }

  /** The cursor and a new generation for it: commits of earlier generations are refused from now on. */
  async claim(topic: string, consumer: string, partition: number): Promise<{ nextOffset: EventID | undefined; generation: number }> {
    const stored = await this.catalog.get(topic);
    checkPartition(topic, stored.partitions, partition);
    const what = `claiming cursor '${consumer}' of topic '${topic}' partition ${partition}`;
    const written = await this.#update(stored.replicas, topic, consumer, partition, what, (current) => ({ next: current?.next, generation: (current?.generation ?? 0) + 1 }));
    return { nextOffset: written.next, generation: written.generation };
  }

  /** Reads the cursor, computes its new value, writes it if nobody wrote in between (else again). */
  async #update(replicas: number, topic: string, consumer: string, partition: number, what: string, change: (current: Stored | undefined) => Stored): Promise<Stored> {
    const key = cursorKey(topic, consumer, partition);
    let kv: KV;
    try {
      kv = await this.bucket.ensure(replicas);
    } catch (err) {
      throw natsError(err, what);
    }
    for (let attempt = 1; ; attempt++) {
      let entry: KvEntry | null;
      try {
        entry = await kv.get(key);
      } catch (err) {
        throw natsError(err, what);
      }
      const next = change(decode(entry)); // may throw FENCED
      try {
        if (entry && entry.operation === "PUT") await kv.update(key, encode(next), entry.revision);
        else await kv.create(key, encode(next));
        return next;
      } catch (err) {
        if (apiCode(err) !== JS_ERR.wrongLastSequence || attempt >= CAS_ATTEMPTS) throw natsError(err, what);
      }
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
    return decode(entry)?.next;
  }
}

export function checkPartition(topic: string, partitions: number, partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
    throw new BrokerError("BAD_PARTITION", `topic '${topic}' has no partition ${partition} (it has ${partitions})`);
  }
}
