/**
 * Delivery of batches through a driver's Appender: keeps every batch until it is
 * acknowledged, reconnects with backoff when a send fails with a retriable error,
 * re-sends the unacknowledged batches in their original order with their original
 * sequence numbers (the log stores a re-sent batch once and answers with its IDs), and
 * gives up on a batch once its delivery timeout has passed. A batch the log refuses with
 * an error that is not retriable fails at once: re-sending would fail the same way.
 */
import { BrokerError, TributaryError } from "../core/errors.js";
import type { AppendAck, AppendBatch, Appender } from "../drivers/contract.js";
import type { BatchFailure, TransportStats } from "./messages.js";

interface Tracked extends AppendBatch {
  deadline: number;
  /** Connection generation the batch was last sent on. */
  sentOn: number;
}

export interface DeliveryEvents {
  acked(batch: AppendBatch, ack: AppendAck): void;
  failed(failure: BatchFailure): void;
}

export class Delivery {
  /** Unacknowledged batches, in send order (Map keeps insertion order). */
  private readonly unacked = new Map<string, Tracked>();
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

  /** Takes a batch; it fails at `deadline` (ms since epoch), by default the delivery timeout from now. */
  submit(batch: AppendBatch, deadline = Date.now() + this.deliveryTimeoutMs): void {
    const tracked: Tracked = { ...batch, deadline, sentOn: -1 };
    this.unacked.set(key(batch), tracked);
    if (this.connected) this.send(tracked);
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

  private send(batch: Tracked): void {
    const generation = this.generation;
    if (batch.sentOn >= 0) this.stats.batchesResent++;
    batch.sentOn = generation;
    this.stats.batchesSent++;
    this.stats.bytesSent += batch.records.byteLength;
    this.driver.send(batch).then(
      (ack) => {
        if (this.unacked.get(key(batch)) !== batch) return; // expired or already acked
        this.unacked.delete(key(batch));
        this.stats.batchesAcked++;
        if (ack.duplicate) this.stats.duplicatesAcked++;
        this.backoff = this.retryBackoffMs;
        this.events.acked(batch, ack);
      },
      (err: unknown) => {
        // Anything that is not a typed refusal (a socket error, a bug in a client library)
        // says nothing about the batch: treat it as a lost connection and re-send.
        const e = err instanceof TributaryError ? err : new BrokerError("UNAVAILABLE", String(err), { cause: err });
        if (e.retriable) {
          if (generation === this.generation) this.onConnectionLost(e);
          return;
        }
        // The log refused the batch: re-sending would fail the same way.
        if (this.unacked.get(key(batch)) !== batch) return;
        this.unacked.delete(key(batch));
        this.events.failed({ partition: batch.partition, seq: batch.seq, code: e.code, message: e.message });
      },
    );
  }

  private onConnected(): void {
    this.connected = true;
    this.stats.connected = true;
    this.generation++;
    // Re-send in original order: per partition, sequence order is push order.
    for (const batch of [...this.unacked.values()]) this.send(batch);
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
    const now = Date.now();
    let expiredOnLiveConnection = false;
    for (const [k, b] of this.unacked) {
      if (b.deadline > now) continue;
      this.unacked.delete(k);
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

const key = (b: AppendBatch): string => `${b.partition}:${b.seq}`;
