/**
 * Reading one partition stream: an ephemeral pull consumer (no acks, in memory) from the
 * start position, pulled in runs of up to `readBatch` messages; each run becomes one
 * ReadBatch (records back to back, per-event IDs and times).
 *
 * Surviving the cluster: whatever goes wrong with the consumer (its node restarted, the
 * stream changed leader, a pull that stalls while the stream grows), the reader drops it
 * and creates a new one from the sequence after the last one it handed out, with backoff,
 * for as long as the stream exists. Only a refusal that would repeat (the topic is gone)
 * ends the iteration with an error.
 */
import { AckPolicy, DeliverPolicy, type Consumer, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { BrokerError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { isOneRecord } from "../../core/records.js";
import type { PartitionReader, ReadBatch, ReadRequest } from "../contract.js";
import type { Catalog } from "./catalog.js";
import { checkPartition } from "./cursors.js";
import { JETSTREAM_DEFAULTS } from "./defaults.js";
import { natsError } from "./errors.js";
import { streamName } from "./mapping.js";
import { SequenceGate } from "./sequence-gate.js";
import { lastSequence } from "./stream-state.js";

export interface ReaderContext {
  /** Told when a reader loses its consumer and makes a new one. */
  logger: Logger | undefined;
  js: JetStreamClient;
  jsm: Promise<JetStreamManager>;
  catalog: Catalog;
  timeoutMs: number;
}

const D = JETSTREAM_DEFAULTS;

export function readPartition(ctx: ReaderContext, request: ReadRequest): PartitionReader {
  let cancelled = false;
  let wake: (() => void) | undefined;
  let stopFetch: (() => void) | undefined;
  return {
    cancel() {
      cancelled = true;
      stopFetch?.();
      wake?.();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<ReadBatch> {
      const sleep = (ms: number) => new Promise<void>((r) => ((wake = r), setTimeout(r, ms)));
      // Starting during an election (of the catalog's or the stream's leader) waits for it:
      // a follow reader as long as it takes, a read to the end up to readStartRetryMs.
      const giveUpAt = request.follow ? Infinity : Date.now() + D.readStartRetryMs;
      const answered = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
        for (let backoff = 100; ; backoff = Math.min(backoff * 2, 2000)) {
          try {
            return await call();
          } catch (err) {
            const e = natsError(err, `reading ${request.topic} partition ${request.partition}`);
            if (!e.retriable || Date.now() + backoff > giveUpAt) throw e;
          }
          await sleep(backoff);
          if (cancelled) return undefined;
        }
      };
      const jsm = await ctx.jsm;
      const stored = await answered(() => ctx.catalog.get(request.topic));
      if (stored === undefined) return;
      checkPartition(request.topic, stored.partitions, request.partition);
      const stream = streamName(request.topic, request.partition);
      const first = await answered(() => lastSequence(jsm, stream, request.topic));
      if (first === undefined) return;
      // What to read: from `next` (a stream sequence) or, until the first message, a time.
      let next: number | undefined;
      let startTime: number | undefined;
      const start = request.start;
      if (start === "earliest") next = 1;
      else if (start === "latest") next = first + 1;
      else if ("offset" in start) next = start.offset + 1;
      else startTime = start.time;
      // Read-to-end stops at the last sequence the stream had when reading began.
      const end = request.follow ? Infinity : first;
      let remaining = request.maxEvents && request.maxEvents > 0 ? request.maxEvents : Infinity;
      let backoff = 100;

      while (!cancelled && remaining > 0 && (next === undefined || next <= end)) {
        let consumerName: string | undefined;
        try {
          const info = await jsm.consumers.add(stream, {
            ack_policy: AckPolicy.None,
            mem_storage: true,
            // Nanoseconds: a reader that vanished leaves no consumer behind for long.
            inactive_threshold: D.readerInactiveMs * 1_000_000,
            ...(next !== undefined
              ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next }
              : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(startTime!).toISOString() }),
          });
          consumerName = info.name;
          // Read-to-end from a time: what the consumer has pending now is what is left.
          let left = request.follow ? Infinity : next === undefined ? info.num_pending : end - next + 1;
          if (left === 0) return;
          const consumer = await ctx.js.consumers.get(stream, consumerName);
          const gate = new SequenceGate(next);
          while (!cancelled && remaining > 0 && left > 0) {
            const want = Math.min(D.readBatch, remaining, left);
            const expires = request.follow ? D.readExpiresMs : Math.max(1000, ctx.timeoutMs);
            let pulled = 0;
            // Each run of messages that arrived together goes out at once, not at the end of the pull.
            for await (const run of pull(consumer, want, expires, end, gate, (stop) => (stopFetch = stop))) {
              if (cancelled) return;
              yield toReadBatch(request.partition, run, stream);
              pulled += run.length;
              next = run[run.length - 1]!.seq + 1;
              startTime = undefined;
              remaining -= run.length;
              left -= run.length;
              backoff = 100;
            }
            stopFetch = undefined;
            if (cancelled) return;
            if (pulled === 0) {
              // Nothing within the pull: a quiet stream, or a consumer that stalled (its
              // node restarted) while the stream grew. Only the second needs a new consumer.
              const last = await lastSequence(jsm, stream, request.topic);
              const seen = next === undefined ? 0 : next - 1;
              if (last > seen && (next !== undefined || last > first)) throw new BrokerError("UNAVAILABLE", `reader of ${stream} stalled at ${seen} while the stream is at ${last}`);
              if (!request.follow) return;
            }
          }
          if (!request.follow && left <= 0) return;
        } catch (err) {
          const e = natsError(err, `reading ${stream}`);
          if (cancelled) return;
          if (!e.retriable) throw e;
          // Consumer lost with its node, a stall, an election: re-create after a pause.
          ctx.logger?.warn({ stream, next, error: e.message }, "JetStream reader re-creates its consumer");
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 2000);
        } finally {
          stopFetch = undefined;
          if (consumerName) void jsm.consumers.delete(stream, consumerName).catch(() => false);
        }
      }
    },
  };
}

/**
 * One pull of up to `want` messages (sequences up to `end`), yielded in runs: whatever
 * arrived before the client's buffer ran dry. A pull whose server died may never end by
 * itself: past its expiry plus `pullGraceMs` it is stopped, and fails UNAVAILABLE when it
 * got nothing, so the reader re-creates its consumer.
 *
 * Only contiguous sequences go out (see SequenceGate): a repeat is dropped, and a skip
 * ends the pull with UNAVAILABLE after the messages before it, so the reader re-creates
 * its consumer at the first missing sequence.
 */
async function* pull(
  consumer: Consumer,
  want: number,
  expires: number,
  end: number,
  gate: SequenceGate,
  onStop: (stop: () => void) => void,
): AsyncGenerator<JsMsg[]> {
  let timedOut = false;
  let messages: Awaited<ReturnType<Consumer["fetch"]>> | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    messages?.stop();
  }, expires + D.pullGraceMs);
  let total = 0;
  try {
    messages = await consumer.fetch({ max_messages: want, expires });
    onStop(() => messages!.stop());
    if (timedOut) messages.stop();
    let run: JsMsg[] = [];
    let skipped: string | undefined;
    for await (const m of messages) {
      if (m.seq > end) break;
      const verdict = gate.admit(m.seq);
      if (verdict === "repeat") continue;
      if (verdict === "skip") {
        skipped = `the consumer skipped from sequence ${gate.next} to ${m.seq}`;
        break;
      }
      run.push(m);
      if (messages.getPending() === 0) {
        total += run.length;
        yield run;
        run = [];
      }
    }
    if (run.length > 0) {
      total += run.length;
      yield run;
    }
    if (skipped) throw new BrokerError("UNAVAILABLE", skipped);
    if (timedOut && total === 0) throw new BrokerError("UNAVAILABLE", `a pull of ${expires} ms got no answer within ${expires + D.pullGraceMs} ms`);
  } finally {
    clearTimeout(timer);
    messages?.stop();
  }
}

/** Messages as one ReadBatch: payloads (records) back to back, IDs = sequence − 1. */
function toReadBatch(partition: number, messages: JsMsg[], stream: string): ReadBatch {
  let size = 0;
  for (const m of messages) size += m.data.byteLength;
  const records = new Uint8Array(size);
  const ids = new Float64Array(messages.length);
  const timestamps = new Float64Array(messages.length);
  let at = 0;
  let contiguous = true;
  messages.forEach((m, i) => {
    const data = m.data;
    if (!isOneRecord(data)) {
      throw new BrokerError("CORRUPT", `${stream} sequence ${m.seq} is not a tributary record (${data.byteLength} bytes): published by another client?`, { retriable: false });
    }
    records.set(data, at);
    at += data.byteLength;
    ids[i] = m.seq - 1;
    timestamps[i] = Number(m.timestampNanos / 1_000_000n);
    if (i > 0 && ids[i] !== ids[i - 1]! + 1) contiguous = false;
  });
  const batch: ReadBatch = { partition, count: messages.length, records, firstEventId: ids[0]!, timestampMs: timestamps[0]!, timestamps };
  if (!contiguous) batch.ids = ids;
  return batch;
}

