/**
 * The transport thread: owns the connection to the log. Control calls (open, stats,
 * close) arrive through Comlink; batches arrive and acks leave on a raw MessagePort,
 * acks coalesced into one message per turn of the event loop.
 */
import { parentPort } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import * as Comlink from "comlink";
import nodeEndpoint, { type NodeEndpoint } from "comlink/dist/esm/node-adapter.mjs";
import { Delivery } from "../src/transport/delivery.js";
import { loadAppender } from "../src/transport/appender-loader.js";
import type { BatchFailure, BatchMessage, TransportConfig, TransportControl, TransportStats } from "../src/transport/messages.js";

let delivery: Delivery | undefined;
let port: MessagePort | undefined;
let acks: number[] = [];
let ids: number[] = [];
let failures: BatchFailure[] = [];
let scheduled = false;

function flushToMain(): void {
  scheduled = false;
  if (!port || (acks.length === 0 && failures.length === 0)) return;
  port.postMessage({ t: "acks", acks: Float64Array.from(acks), ids: ids.length > 0 ? Float64Array.from(ids) : undefined, failures });
  acks = [];
  ids = [];
  failures = [];
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(flushToMain);
}

/** Joins a batch's parts into one blob; a single part is used as is. */
function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const control: TransportControl = {
  async open(config: TransportConfig, dataPort: MessagePort) {
    port = dataPort as MessagePort;
    const appender = await loadAppender(config.appender);
    delivery = new Delivery(
      appender,
      {
        acked: (batch, ack) => {
          if (ack.ids) {
            acks.push(batch.partition, batch.seq, ack.firstEventId, ack.count, ids.length);
            for (const id of ack.ids) ids.push(id);
          } else acks.push(batch.partition, batch.seq, ack.firstEventId, ack.count, -1);
          schedule();
        },
        failed: (failure) => {
          failures.push(failure);
          schedule();
        },
      },
      config.deliveryTimeoutMs,
      config.retryBackoffMs,
    );
    port.on("message", (msg: BatchMessage) => {
      delivery!.submit({ partition: msg.partition, seq: msg.seq, count: msg.count, records: join(msg.parts) }, msg.deadline);
    });
    await delivery.start();
  },
  stats(): TransportStats {
    return delivery ? { ...delivery.stats } : ({} as TransportStats);
  },
  async close() {
    await delivery?.close();
    flushToMain();
    port?.close();
  },
};

Comlink.expose(control, nodeEndpoint(parentPort as unknown as NodeEndpoint));
