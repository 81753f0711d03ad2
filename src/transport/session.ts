/**
 * One producer's session on the transport thread: its appender, its delivery and, when
 * it has one, its write-ahead log. Batches arrive on the session's data port; acks,
 * failures and durability notices leave on it in bulk, one message per turn of the
 * event loop.
 */
import type { MessagePort } from "node:worker_threads";
import { TributaryError } from "../core/errors.js";
import { loadAppender } from "./appender-loader.js";
import { Delivery } from "./delivery.js";
import { type BatchFailure, type BatchMessage, type SessionOpened, type TransportConfig, type TransportStats } from "./messages.js";
import { WriteAheadLog } from "./wal/wal.js";

/** With a WAL, what may be in flight to the log at once (the rest waits on disk). */
const WAL_WINDOW = { batches: 256, bytes: 32 * 1024 * 1024 };

export class Session {
  readonly #port: MessagePort;
  readonly #delivery: Delivery;
  readonly #wal: WriteAheadLog | undefined;
  #acks: number[] = [];
  #ids: number[] = [];
  #failures: BatchFailure[] = [];
  #durable: number[] = [];
  #scheduled = false;
  #closed = false;

  private constructor(port: MessagePort, delivery: Delivery, wal: WriteAheadLog | undefined) {
    this.#port = port;
    this.#delivery = delivery;
    this.#wal = wal;
  }

  static async open(config: TransportConfig, port: MessagePort, warn: (message: string) => void): Promise<{ session: Session; opened: SessionOpened }> {
    const appender = await loadAppender(config.appender);
    const recovered = config.wal ? WriteAheadLog.open({ ...config.wal, warn }) : undefined;
    const wal = recovered?.wal;
    let session!: Session;
    const delivery = new Delivery(
      appender,
      {
        acked: (batch, ack) => session.#acked(batch.partition, batch.seq, ack.firstEventId, ack.count, ack.ids),
        failed: (failure) => session.#failed(failure),
      },
      config.deliveryTimeoutMs,
      config.retryBackoffMs,
      wal ? WAL_WINDOW : undefined,
    );
    session = new Session(port, delivery, wal);
    // Batches of an earlier run go first, in the order written, under their original
    // sequences: the log stores each once, and each partition keeps its order.
    let events = 0;
    for (const b of recovered?.pending ?? []) {
      events += b.count;
      delivery.submit({ partition: b.partition, seq: b.seq, count: b.count, records: undefined, reload: () => wal!.read(b.ref) }, Infinity);
    }
    port.on("message", (msg: BatchMessage) => session.#take(msg));
    await delivery.start();
    const replayed = { batches: recovered?.pending.length ?? 0, events };
    return { session, opened: { nextSeqs: wal?.nextSeqs() ?? [], replayed, walBytes: wal?.bytes ?? 0 } };
  }

  stats(): TransportStats {
    return { ...this.#delivery.stats };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#delivery.close();
    await this.#wal?.close();
    this.#flush();
    this.#port.close();
  }

  #take(msg: BatchMessage): void {
    const records = join(msg.parts);
    const wal = this.#wal;
    if (!wal) {
      this.#delivery.submit({ partition: msg.partition, seq: msg.seq, count: msg.count, records }, msg.deadline);
      return;
    }
    let ref;
    try {
      ref = wal.append(msg.partition, msg.seq, msg.count, records);
    } catch (err) {
      const e = err as TributaryError;
      this.#failed({ partition: msg.partition, seq: msg.seq, code: e.code ?? "WAL_IO", message: e.message });
      return;
    }
    // In the WAL, the batch waits for the log as long as it takes: no delivery deadline.
    this.#delivery.submit({ partition: msg.partition, seq: msg.seq, count: msg.count, records, reload: () => wal.read(ref) }, Infinity);
    const { partition, seq } = msg;
    wal.sync().then(
      () => {
        this.#durable.push(partition, seq);
        this.#schedule();
      },
      (err: Error) => this.#failed({ partition, seq, code: "WAL_IO", message: err.message }),
    );
  }

  #acked(partition: number, seq: number, first: number, count: number, ids: Float64Array | undefined): void {
    this.#wal?.done(partition, seq);
    if (ids) {
      this.#acks.push(partition, seq, first, count, this.#ids.length);
      for (const id of ids) this.#ids.push(id);
    } else this.#acks.push(partition, seq, first, count, -1);
    this.#schedule();
  }

  #failed(failure: BatchFailure): void {
    // Refused for good (or timed out): a replay would fail the same way.
    if (failure.code !== "CLOSED") this.#wal?.done(failure.partition, failure.seq);
    this.#failures.push(failure);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#acks.length === 0 && this.#failures.length === 0 && this.#durable.length === 0) return;
    this.#port.postMessage({
      t: "acks",
      acks: Float64Array.from(this.#acks),
      ids: this.#ids.length > 0 ? Float64Array.from(this.#ids) : undefined,
      failures: this.#failures,
      durable: this.#durable.length > 0 ? Float64Array.from(this.#durable) : undefined,
      walBytes: this.#wal?.bytes,
    });
    this.#acks = [];
    this.#ids = [];
    this.#failures = [];
    this.#durable = [];
  }
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
