/**
 * Delivery of batches through a driver's Appender: keeps every batch until it is
 * acknowledged, reconnects with backoff when a send fails with a retriable error,
 * re-sends the unacknowledged batches in their original order with their original
 * sequence numbers (the log stores a re-sent batch once and answers with its IDs), and
 * gives up on a batch once its delivery timeout has passed. A batch the log refuses with
 * an error that is not retriable fails at once: re-sending would fail the same way.
 *
 * At most `window` batches (and `windowBytes`) are in flight; the others wait in order.
 * A batch that can be read back (from the producer's WAL) drops its bytes while it
 * waits, so a long outage costs disk, not memory.
 */
import { BrokerError, TributaryError } from "../core/errors.js";
import type { AppendAck, AppendBatch, Appender } from "../drivers/contract.js";
import type { BatchFailure, TransportStats } from "./messages.js";

/** A batch handed to delivery; `reload` gives its records back after they were dropped. */
export interface DeliveryBatch extends Omit<AppendBatch, "records"> {
  records: Uint8Array | undefined;
  reload?: () => Uint8Array;
}

interface Tracked extends DeliveryBatch {
  deadline: number;
  /** Connection generation the batch was last sent on (-1: never sent). */
  sentOn: number;
  bytes: number;
}

export interface DeliveryEvents {
  acked(batch: AppendBatch, ack: AppendAck): void;
  failed(failure: BatchFailure): void;
}

/** How many batches may be in flight at once. Default: no limit (the producer bounds them). */
export interface DeliveryWindow {
  batches: number;
  bytes: number;
}

export class Delivery {
  /** Unacknowledged batches, in submission order (Map keeps insertion order). */
  private readonly unacked = new Map<number, Tracked>();
  /** Keys waiting to be sent on the current connection, in order (a moving head, no shift()). */
  private queue: number[] = [];
  private head = 0;
  private inFlight = 0;
  private inFlightBytes = 0;
  /** Batches with a finite deadline: expiry scans only when there are some. */
  private expiring = 0;
  private generation = 0;
  private connected = false;
  private reconnecting: Promise<void> | undefined;
  private backoff: number;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  readonly stats: TransportStats = {
    batchesSent: 0,
    batchesAcked: 0,
    batchesResent: 0,
    duplicatesAcked: 0,
    reconnects: 0,
    bytesSent: 0,
    connected: false,
    lastError: undefined,
  };

  constructor(
    private readonly driver: Appender,
    private readonly events: DeliveryEvents,
    private readonly deliveryTimeoutMs: number,
    private readonly retryBackoffMs: number,
    private readonly window: DeliveryWindow = { batches: Infinity, bytes: Infinity },
  ) {
    this.backoff = retryBackoffMs;
    this.timer = setInterval(() => this.expire(), Math.min(100, Math.max(10, deliveryTimeoutMs / 10)));
    this.timer.unref();
  }

  /** Connects for the first time; on failure keeps retrying in the background. */
  async start(): Promise<void> {
    try {
      await this.driver.connect();
      // close() ran while connecting: the appender was closed before this connection opened.
      if (this.closed) {
        await this.driver.close();
        return;
      }
      this.onConnected();
    } catch (err) {
      this.onConnectionLost(err);
    }
  }

  /**
   * Takes a batch; it fails at `deadline` (ms since epoch), by default the delivery
   * timeout from now; `Infinity` waits for the log as long as it takes.
   */
  submit(batch: DeliveryBatch, deadline = Date.now() + this.deliveryTimeoutMs): void {
    const bytes = batch.records?.byteLength ?? 0;
    const tracked: Tracked = { ...batch, deadline, sentOn: -1, bytes };
    const k = key(batch);
    this.unacked.set(k, tracked);
    if (deadline !== Infinity) this.expiring++;
    this.queue.push(k);
    this.pump();
    // Waiting behind the window or for a connection: keep the bytes on disk only.
    if (tracked.sentOn < 0 && tracked.reload) tracked.records = undefined;
  }

  get pending(): number {
    return this.unacked.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const b of this.unacked.values()) {
      this.events.failed({ partition: b.partition, seq: b.seq, code: "CLOSED", message: "producer closed before the batch was acknowledged" });
    }
    this.unacked.clear();
    await this.driver.close();
  }

  /** Sends waiting batches in order while the window has room. */
  private pump(): void {
    if (!this.connected) return;
    while (this.head < this.queue.length && this.inFlight < this.window.batches && this.inFlightBytes < this.window.bytes) {
      const batch = this.unacked.get(this.queue[this.head++]!);
      if (batch && batch.sentOn !== this.generation) this.send(batch);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private send(batch: Tracked): void {
    const generation = this.generation;
    let records: Uint8Array;
    try {
      records = batch.records ?? (batch.records = batch.reload!());
    } catch (err) {
      this.settle(batch);
      const e = err instanceof TributaryError ? err : new TributaryError(String(err), { code: "WAL_IO", cause: err });
      this.events.failed({ partition: batch.partition, seq: batch.seq, code: e.code, message: `cannot read the batch back: ${e.message}` });
      return;
    }
    if (batch.sentOn >= 0) this.stats.batchesResent++;
    batch.sentOn = generation;
    batch.bytes = records.byteLength;
    this.inFlight++;
    this.inFlightBytes += batch.bytes;
    this.stats.batchesSent++;
    this.stats.bytesSent += records.byteLength;
    this.driver.send({ partition: batch.partition, seq: batch.seq, count: batch.count, records }).then(
      (ack) => {
        if (generation === this.generation) this.left(batch);
        if (this.unacked.get(key(batch)) !== batch) return; // expired or already acked
        this.settle(batch);
        this.stats.batchesAcked++;
        if (ack.duplicate) this.stats.duplicatesAcked++;
        this.backoff = this.retryBackoffMs;
        this.events.acked({ partition: batch.partition, seq: batch.seq, count: batch.count, records }, ack);
        this.pump();
      },
      (err: unknown) => {
        if (generation === this.generation) this.left(batch);
        // Anything that is not a typed refusal (a socket error, a bug in a client library)
        // says nothing about the batch: treat it as a lost connection and re-send.
        const e = err instanceof TributaryError ? err : new BrokerError("UNAVAILABLE", String(err), { cause: err });
        if (e.retriable) {
          if (generation === this.generation) this.onConnectionLost(e);
          return;
        }
        // The log refused the batch: re-sending would fail the same way.
        if (this.unacked.get(key(batch)) !== batch) return;
        this.settle(batch);
        this.events.failed({ partition: batch.partition, seq: batch.seq, code: e.code, message: e.message });
        this.pump();
      },
    );
  }

  /** A batch of the current connection is no longer in flight. */
  private left(batch: Tracked): void {
    this.inFlight--;
    this.inFlightBytes -= batch.bytes;
  }

  /** A batch leaves delivery for good. */
  private settle(batch: Tracked): void {
    this.unacked.delete(key(batch));
    if (batch.deadline !== Infinity) this.expiring--;
  }

  private onConnected(): void {
    this.connected = true;
    this.stats.connected = true;
    this.generation++;
    this.inFlight = 0;
    this.inFlightBytes = 0;
    // Re-send in original order: per partition, sequence order is push order.
    this.queue = [...this.unacked.keys()];
    this.head = 0;
    this.pump();
  }

  private onConnectionLost(err: unknown): void {
    this.stats.lastError = (err as Error)?.message ?? String(err);
    this.connected = false;
    this.stats.connected = false;
    if (this.closed || this.reconnecting) return;
    this.generation++;
    this.reconnecting = (async () => {
      while (!this.closed) {
        await new Promise((r) => setTimeout(r, this.backoff));
        this.backoff = Math.min(this.backoff * 2, 2000);
        if (this.closed) return;
        try {
          this.stats.reconnects++;
          await this.driver.connect();
          this.reconnecting = undefined;
          // close() ran while connecting: the appender was closed before this connection opened.
          if (this.closed) {
            await this.driver.close();
            return;
          }
          this.onConnected();
          return;
        } catch (e) {
          this.stats.lastError = (e as Error)?.message ?? String(e);
        }
      }
    })();
  }

  private expire(): void {
    if (this.expiring === 0) return;
    const now = Date.now();
    let expiredOnLiveConnection = false;
    for (const b of [...this.unacked.values()]) {
      if (b.deadline > now) continue;
      this.settle(b);
      if (this.connected && b.sentOn === this.generation) expiredOnLiveConnection = true;
      this.events.failed({
        partition: b.partition,
        seq: b.seq,
        code: "timeout",
        message: this.stats.lastError ?? "no acknowledgement from the broker",
      });
    }
    // No ack within the whole timeout on a "live" connection: treat it as dead and reconnect.
    if (expiredOnLiveConnection) this.onConnectionLost(new Error("no acknowledgement within the delivery timeout"));
  }
}

/** Sequences stay below 2^32 per partition long before a float loses precision on the product. */
const key = (b: { partition: number; seq: number }): number => b.partition * 2 ** 32 + b.seq;
