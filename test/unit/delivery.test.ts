import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Delivery } from "../../dist/src/transport/delivery.js";
import { BrokerError } from "../../dist/src/core/errors.js";
import type { AppendAck, AppendBatch, Appender } from "../../dist/src/drivers/contract.js";
import type { BatchFailure } from "../../dist/src/transport/messages.js";
import { deferred, type Deferred } from "./support.js";

/** A fake Appender: every call is recorded, every answer is given by the test. */
class FakeAppender implements Appender {
  connects: Deferred<void>[] = [];
  sends: { batch: AppendBatch; answer: Deferred<AppendAck> }[] = [];
  closed = 0;
  /** Answer connects at once (true), fail them at once (an error), or leave them to the test (undefined). */
  autoConnect: true | Error | undefined = true;

  /** The last of connect (settled) / close the appender saw. */
  lastCall: "connect" | "close" | undefined;

  connect(): Promise<void> {
    const d = deferred<void>();
    d.promise.then(
      () => (this.lastCall = "connect"),
      () => {},
    );
    this.connects.push(d);
    if (this.autoConnect === true) d.resolve();
    else if (this.autoConnect) d.reject(this.autoConnect);
    return d.promise;
  }

  send(batch: AppendBatch): Promise<AppendAck> {
    const answer = deferred<AppendAck>();
    this.sends.push({ batch: { partition: batch.partition, seq: batch.seq, count: batch.count, records: batch.records }, answer });
    return answer.promise;
  }

  async close(): Promise<void> {
    this.closed++;
    this.lastCall = "close";
  }

  /** (partition, seq) of the sends so far, from `from` on. */
  sent(from = 0): string[] {
    return this.sends.slice(from).map((s) => `${s.batch.partition}:${s.batch.seq}`);
  }

  ack(i: number, firstEventId = 100 * i, duplicate = false): void {
    const s = this.sends[i]!;
    s.answer.resolve({ firstEventId, count: s.batch.count, duplicate });
  }

  fail(i: number, err: unknown): void {
    this.sends[i]!.answer.reject(err);
  }
}

function batch(partition: number, seq: number, count = 2): AppendBatch {
  return { partition, seq, count, records: new Uint8Array(10 * count).fill(seq) };
}

function setup(deliveryTimeoutMs = 1000, backoffMs = 50) {
  const appender = new FakeAppender();
  const acked: { batch: string; ack: AppendAck }[] = [];
  const failed: BatchFailure[] = [];
  const delivery = new Delivery(
    appender,
    {
      acked: (b, ack) => acked.push({ batch: `${b.partition}:${b.seq}`, ack }),
      failed: (f) => failed.push(f),
    },
    deliveryTimeoutMs,
    backoffMs,
  );
  return { appender, delivery, acked, failed };
}

/** Lets the promise callbacks of the fake's answers run (no timers move). */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Delivery", () => {
  it("sends each batch once connected and reports the acks", async () => {
    const { appender, delivery, acked, failed } = setup();
    await delivery.start();
    delivery.submit(batch(0, 0));
    delivery.submit(batch(1, 0, 3));
    delivery.submit(batch(0, 1));
    expect(appender.sent()).toEqual(["0:0", "1:0", "0:1"]);
    expect(delivery.pending).toBe(3);
    appender.ack(0, 10);
    appender.ack(1, 20);
    appender.ack(2, 12);
    await settle();
    expect(acked.map((a) => a.batch)).toEqual(["0:0", "1:0", "0:1"]);
    expect(acked.map((a) => a.ack.firstEventId)).toEqual([10, 20, 12]);
    expect(failed).toEqual([]);
    expect(delivery.pending).toBe(0);
    expect(delivery.stats).toMatchObject({ batchesSent: 3, batchesAcked: 3, batchesResent: 0, reconnects: 0, bytesSent: 20 + 30 + 20, connected: true });
    await delivery.close();
  });

  it("queues batches submitted before the connection is up and sends them in order once it is", async () => {
    const { appender, delivery } = setup();
    appender.autoConnect = undefined;
    const started = delivery.start();
    delivery.submit(batch(0, 0));
    delivery.submit(batch(0, 1));
    delivery.submit(batch(2, 0));
    expect(appender.sends).toHaveLength(0);
    appender.connects[0]!.resolve();
    await started;
    expect(appender.sent()).toEqual(["0:0", "0:1", "2:0"]);
    await delivery.close();
  });

  it("on a retriable error reconnects after the backoff and re-sends every unacked batch in order, same seq", async () => {
    const { appender, delivery, acked, failed } = setup(10_000, 50);
    await delivery.start();
    for (const b of [batch(0, 0), batch(0, 1), batch(1, 0), batch(0, 2)]) delivery.submit(b);
    appender.ack(0); // 0:0 is in: it is not re-sent
    appender.fail(1, new BrokerError("UNAVAILABLE", "broker went away"));
    appender.fail(2, new BrokerError("UNAVAILABLE", "broker went away")); // same lost connection
    await settle();
    expect(delivery.stats.connected).toBe(false);
    expect(delivery.stats.lastError).toBe("broker went away");
    expect(appender.connects).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(49);
    expect(appender.connects).toHaveLength(1); // waits out the backoff
    await vi.advanceTimersByTimeAsync(1);
    expect(appender.connects).toHaveLength(2);
    expect(appender.sent(4)).toEqual(["0:1", "1:0", "0:2"]);
    // Same batches, byte for byte.
    expect(appender.sends[4]!.batch.records).toBe(appender.sends[1]!.batch.records);
    for (let i = 4; i < 7; i++) appender.ack(i, 0, true);
    await settle();
    expect(acked.map((a) => a.batch)).toEqual(["0:0", "0:1", "1:0", "0:2"]);
    expect(failed).toEqual([]);
    expect(delivery.stats).toMatchObject({ reconnects: 1, batchesResent: 3, duplicatesAcked: 3, batchesAcked: 4, batchesSent: 7, connected: true });
    await delivery.close();
  });

  it("the late answer of a send on a lost connection neither reconnects again nor acks twice", async () => {
    const { appender, delivery, acked } = setup(10_000, 50);
    await delivery.start();
    delivery.submit(batch(0, 0));
    delivery.submit(batch(0, 1));
    appender.fail(0, new BrokerError("UNAVAILABLE", "gone"));
    await vi.advanceTimersByTimeAsync(50);
    expect(appender.sent()).toEqual(["0:0", "0:1", "0:0", "0:1"]);
    appender.fail(1, new BrokerError("UNAVAILABLE", "late error from the old connection"));
    appender.ack(2);
    appender.ack(3);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(appender.connects).toHaveLength(2);
    expect(delivery.stats.reconnects).toBe(1);
    expect(acked.map((a) => a.batch)).toEqual(["0:0", "0:1"]);
    await delivery.close();
  });

  it("doubles the backoff while reconnecting fails, up to 2 s, and resets it after an ack", async () => {
    const { appender, delivery } = setup(60_000, 100);
    await delivery.start();
    delivery.submit(batch(0, 0));
    appender.autoConnect = new BrokerError("UNAVAILABLE", "refused");
    appender.fail(0, new BrokerError("UNAVAILABLE", "gone"));
    await settle();
    const attemptsAt: number[] = [];
    const t0 = Date.now();
    for (let ms = 0; ms < 9000; ms += 10) {
      const before = appender.connects.length;
      await vi.advanceTimersByTimeAsync(10);
      if (appender.connects.length > before) attemptsAt.push(Date.now() - t0);
    }
    // 100, +200, +400, +800, +1600, +2000, +2000, …
    expect(attemptsAt.slice(0, 7)).toEqual([100, 300, 700, 1500, 3100, 5100, 7100]);
    expect(delivery.stats.lastError).toBe("refused");
    appender.autoConnect = true;
    await vi.advanceTimersByTimeAsync(2000);
    expect(delivery.stats.connected).toBe(true);
    const resent = appender.sends.length - 1;
    appender.ack(resent);
    await settle();
    // After an ack the next loss waits the first backoff again.
    delivery.submit(batch(0, 1));
    appender.fail(appender.sends.length - 1, new BrokerError("UNAVAILABLE", "gone again"));
    await settle();
    const connects = appender.connects.length;
    await vi.advanceTimersByTimeAsync(100);
    expect(appender.connects.length).toBe(connects + 1);
    await delivery.close();
  });

  it("treats a plain Error from the appender as retriable (a lost connection)", async () => {
    const { appender, delivery, failed } = setup(10_000, 50);
    await delivery.start();
    delivery.submit(batch(0, 0));
    appender.fail(0, new Error("ECONNRESET"));
    await vi.advanceTimersByTimeAsync(50);
    expect(failed).toEqual([]);
    expect(appender.connects).toHaveLength(2);
    expect(appender.sent()).toEqual(["0:0", "0:0"]);
    expect(delivery.stats.lastError).toContain("ECONNRESET");
    await delivery.close();
  });

  it("fails a batch refused with a non-retriable error at once, with its code, and never re-sends it", async () => {
    const { appender, delivery, failed, acked } = setup(10_000, 50);
    await delivery.start();
    delivery.submit(batch(0, 0));
    delivery.submit(batch(0, 1));
    appender.fail(0, new BrokerError("EVENT_TOO_LARGE", "record 0 is too large"));
    await settle();
    expect(failed).toEqual([{ partition: 0, seq: 0, code: "EVENT_TOO_LARGE", message: "record 0 is too large" }]);
    expect(delivery.pending).toBe(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(appender.connects).toHaveLength(1);
    expect(appender.sent()).toEqual(["0:0", "0:1"]);
    expect(delivery.stats.connected).toBe(true);
    appender.ack(1);
    await settle();
    expect(acked.map((a) => a.batch)).toEqual(["0:1"]);
    await delivery.close();
  });

  it("fails a batch with code 'timeout' at its deadline while the log is unreachable", async () => {
    const { appender, delivery, failed } = setup(1000, 50);
    appender.autoConnect = new BrokerError("UNAVAILABLE", "connection refused");
    await delivery.start();
    delivery.submit(batch(0, 0)); // deadline now + 1000
    delivery.submit(batch(0, 1), Date.now() + 300);
    await vi.advanceTimersByTimeAsync(250);
    expect(failed).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(failed).toEqual([{ partition: 0, seq: 1, code: "timeout", message: "connection refused" }]);
    await vi.advanceTimersByTimeAsync(700);
    expect(failed.map((f) => `${f.partition}:${f.seq}:${f.code}`)).toEqual(["0:1:timeout", "0:0:timeout"]);
    expect(delivery.pending).toBe(0);
    expect(appender.sends).toHaveLength(0);
    await delivery.close();
  });

  it("a deadline passing on a live connection fails the batch and forces a reconnect", async () => {
    const { appender, delivery, failed } = setup(1000, 50);
    await delivery.start();
    delivery.submit(batch(0, 0));
    await vi.advanceTimersByTimeAsync(900);
    delivery.submit(batch(0, 1)); // deadline at 1900 ms
    await vi.advanceTimersByTimeAsync(120); // the expiry check at 1000 ms finds 0:0 past its deadline
    expect(failed.map((f) => `${f.seq}:${f.code}`)).toEqual(["0:timeout"]);
    expect(failed[0]!.message).toBe("no acknowledgement from the broker");
    expect(delivery.stats.connected).toBe(false);
    expect(appender.connects).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(30); // the first backoff (50 ms) after the expiry
    expect(appender.connects).toHaveLength(2);
    expect(delivery.stats.reconnects).toBe(1);
    // The batch still in time goes again on the new connection.
    expect(appender.sent()).toEqual(["0:0", "0:1", "0:1"]);
    // A late ack of the expired batch is ignored.
    appender.ack(0);
    await settle();
    expect(delivery.stats.batchesAcked).toBe(0);
    await delivery.close();
  });

  it("close() fails every unacked batch with CLOSED, closes the appender and ignores later answers", async () => {
    const { appender, delivery, failed, acked } = setup(10_000, 50);
    await delivery.start();
    delivery.submit(batch(0, 0));
    delivery.submit(batch(1, 0));
    delivery.submit(batch(0, 1));
    appender.ack(1);
    await settle();
    await delivery.close();
    expect(failed.map((f) => `${f.partition}:${f.seq}:${f.code}`)).toEqual(["0:0:CLOSED", "0:1:CLOSED"]);
    expect(appender.closed).toBe(1);
    expect(delivery.pending).toBe(0);
    appender.ack(0);
    appender.fail(2, new BrokerError("UNAVAILABLE", "gone"));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(acked.map((a) => a.batch)).toEqual(["1:0"]);
    expect(appender.connects).toHaveLength(1); // no reconnect after close
    expect(failed).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0); // the expiry interval is gone
  });

  it("close() during a reconnect backoff stops the reconnect loop", async () => {
    const { appender, delivery } = setup(10_000, 50);
    await delivery.start();
    delivery.submit(batch(0, 0));
    appender.fail(0, new BrokerError("UNAVAILABLE", "gone"));
    await settle();
    await delivery.close();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(appender.connects).toHaveLength(1);
  });

  it("close() while a reconnect is connecting: the late connection is not used and the appender ends closed", async () => {
    const { appender, delivery, failed } = setup(10_000, 50);
    await delivery.start();
    delivery.submit(batch(0, 0));
    appender.autoConnect = undefined; // the next connect hangs until the test answers it
    appender.fail(0, new BrokerError("UNAVAILABLE", "gone"));
    await vi.advanceTimersByTimeAsync(50);
    expect(appender.connects).toHaveLength(2);
    const closing = delivery.close();
    await settle();
    expect(failed.map((f) => f.code)).toEqual(["CLOSED"]);
    appender.connects[1]!.resolve(); // the connection opens after close() was called
    await closing;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(delivery.stats.connected).toBe(false);
    expect(appender.sends).toHaveLength(1); // nothing sent on the late connection
    // The appender was closed after its last connect settled (else that connection stays open).
    expect(appender.lastCall).toBe("close");
  });

  it("close() during the first connect: the connection is not used and the appender ends closed", async () => {
    const { appender, delivery, failed } = setup(10_000, 50);
    appender.autoConnect = undefined;
    const started = delivery.start();
    delivery.submit(batch(0, 0));
    await delivery.close();
    expect(failed.map((f) => f.code)).toEqual(["CLOSED"]);
    appender.connects[0]!.resolve();
    await started;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(delivery.stats.connected).toBe(false);
    expect(appender.sends).toHaveLength(0);
    expect(appender.lastCall).toBe("close");
  });
});
