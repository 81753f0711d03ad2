// The durable producer: a write-ahead log that keeps every durable event through log
// outages and crashes of the producing process, and replays exactly once.
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BatchSize, Driver, InvalidArgumentError, Ordering } from "../dist/src/index.js";
import { startBroker } from "../dist/src/broker/index.js";
import { WriteAheadLog, claimWal, encodeRecords, type WalMeta } from "../dist/src/internal.js";
import { readPartition, removeDir, tempDir, testBroker } from "./helpers.js";
import { crashTest } from "./wal-crash.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dir(): string {
  const d = tempDir();
  cleanups.push(() => removeDir(d));
  return d;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const enc = new TextEncoder();
const walFiles = (d: string) => fs.readdirSync(d).filter((f) => f.endsWith(".wal"));

function openWal(d: string, segmentBytes = 1 << 20, warnings: string[] = []) {
  const meta: WalMeta = JSON.parse(fs.readFileSync(path.join(d, "producer.json"), "utf8"));
  return WriteAheadLog.open({ dir: d, meta, fsync: "always", intervalMs: 100, segmentBytes, warn: (m: string) => warnings.push(m) });
}

/** A WAL directory with `n` batches of 3 events each in partition 0 (seqs 0..n-1), none done. */
async function walWith(n: number): Promise<string> {
  const root = dir();
  const claim = claimWal(root, "t", "p");
  const { wal } = openWal(claim.dir);
  for (let seq = 0; seq < n; seq++) wal.append(0, seq, 3, encodeRecords([0, 1, 2].map((i) => ({ metadata: enc.encode(`{"b":${seq},"i":${i}}`) }))));
  await wal.sync();
  await wal.close();
  claim.release();
  return claim.dir;
}

describe("write-ahead log", () => {
  it("recovers a torn or bit-flipped tail to the last valid batch, reporting what it cut", async () => {
    for (const damage of ["truncate", "flip-last", "flip-middle"] as const) {
      const d = await walWith(10);
      const [file] = walFiles(d);
      const full = path.join(d, file!);
      const size = fs.statSync(full).size;
      const frame = size / 10;
      if (damage === "truncate") fs.truncateSync(full, size - 5);
      else {
        const buf = fs.readFileSync(full);
        const at = damage === "flip-last" ? size - 3 : Math.floor(frame * 4.5);
        buf[at]! ^= 0xff;
        fs.writeFileSync(full, buf);
      }
      const warnings: string[] = [];
      const { wal, pending } = openWal(d, 1 << 20, warnings);
      const seqs = pending.map((b: { seq: number }) => b.seq);
      if (damage === "flip-middle") expect(seqs).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9]); // frames after the damage are kept
      else expect(seqs).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(warnings.join("\n"), damage).toMatch(damage === "flip-middle" ? /skipped \d+ corrupt bytes/ : /cut \d+ bytes/);
      // What survived reads back byte-exact, and new batches go after it.
      const first = pending[0]!;
      expect(Buffer.from(wal.read(first.ref)).toString("utf8")).toContain('{"b":0,"i":0}');
      expect(wal.nextSeq(0)).toBe(damage === "flip-middle" ? 10 : 9);
      await wal.close();
    }
  });

  it("deletes segments whose batches are all done, and never reuses a sequence afterwards", async () => {
    const root = dir();
    const claim = claimWal(root, "t", "p");
    cleanups.push(() => claim.release());
    const { wal } = openWal(claim.dir, 4096);
    const blob = encodeRecords([{ metadata: new Uint8Array(1000) }]);
    for (let seq = 0; seq < 40; seq++) wal.append(seq % 2, seq, 1, blob);
    expect(walFiles(claim.dir).length).toBeGreaterThan(5);
    for (let seq = 0; seq < 40; seq++) wal.done(seq % 2, seq);
    expect(walFiles(claim.dir)).toHaveLength(1); // only the active segment is left
    await wal.close();
    expect(walFiles(claim.dir)).toEqual([]); // nothing pending: an empty WAL leaves no segment
    const again = openWal(claim.dir, 4096);
    expect(again.pending).toEqual([]);
    expect(again.wal.nextSeq(0)).toBe(39);
    expect(again.wal.nextSeq(1)).toBe(40);
    await again.wal.close();
  });

  it("lets one producer at a time use a WAL directory", async () => {
    const b = await testBroker();
    cleanups.push(() => removeDir(b.dir), () => b.close());
    const driver = await Driver.connect(b.url);
    cleanups.push(() => driver.close());
    await driver.createTopic("one", { partitions: 1 });
    const topic = await driver.openTopic("one");
    const wal = dir();
    const first = topic.producer({ name: "same", wal: { dir: wal } });
    expect(() => topic.producer({ name: "same", wal: { dir: wal } })).toThrow(InvalidArgumentError);
    expect(() => topic.producer({ name: "same", wal: { dir: wal } })).toThrow(/in use by another producer of this process/);
    const other = topic.producer({ name: "other", wal: { dir: wal } });
    await Promise.all([first.close(), other.close()]);
    topic.producer({ name: "same", wal: { dir: wal } }); // free again after close
  });
});

/**
 * A topic on a broker the test can stop and start again on the same port and data
 * (`restart()`), the way a broker outage looks to a producer.
 */
async function stoppableBroker(topicName: string, partitions: number) {
  const data = dir();
  let broker = await startBroker({ dir: data, port: 0 });
  const port = broker.port;
  cleanups.push(() => broker.close());
  const driver = await Driver.connect(broker.url);
  cleanups.push(() => driver.close());
  await driver.createTopic(topicName, { partitions });
  return {
    topic: await driver.openTopic(topicName),
    stop: () => broker.close(),
    restart: async () => (broker = await startBroker({ dir: data, port })).url,
  };
}

describe("durable producer", () => {
  it("keeps making events durable while the broker is down, fails none, and delivers them all once it is back", async () => {
    const { topic, stop, restart } = await stoppableBroker("outage", 2);
    const producer = topic.producer({ name: "w", wal: { dir: dir(), fsync: "always" }, deliveryTimeoutMs: 1000 });
    await producer.ready();
    const before = Array.from({ length: 100 }, (_, i) => producer.push({ i }));
    await producer.flush();
    await stop();
    const during = Array.from({ length: 3000 }, (_, i) => producer.push({ i: 100 + i }));
    await producer.flush({ durable: true });
    await Promise.all(during.map((f) => f.durable()));
    // Well past the delivery timeout: durable events wait for the log instead of failing.
    await sleep(2500);
    expect(during.filter((f) => f.completed)).toEqual([]);
    const url = await restart();
    await producer.flush();
    expect([...before, ...during].filter((f) => f.error)).toEqual([]);
    const stored = [...(await readPartition(url, "outage", 0)), ...(await readPartition(url, "outage", 1))];
    expect(stored.map((e) => e.metadata.i).sort((a, b) => a - b)).toEqual([...Array(3100).keys()]);
    await producer.close();
  });

  it("applies backpressure when the WAL is full, and drains once the log is back", async () => {
    const { topic, stop, restart } = await stoppableBroker("full", 1);
    const producer = topic.producer({ name: "w", wal: { dir: dir(), maxBytes: 256 * 1024 }, maxPendingEvents: 1000 });
    await producer.ready();
    await stop();
    const data100 = new Uint8Array(100);
    let pushed = 0;
    while (producer.hasCapacity && pushed < 100_000) {
      producer.push({ n: pushed++ }, data100);
      if (pushed % 500 === 0) await producer.flush({ durable: true });
    }
    expect(producer.hasCapacity).toBe(false);
    expect(pushed).toBeLessThan(100_000);
    const stats = await producer.stats();
    expect(stats.wal!.bytes).toBeGreaterThanOrEqual(256 * 1024);
    let ready = false;
    const waiting = producer.ready().then(() => (ready = true));
    await sleep(600);
    expect(ready).toBe(false); // the log is down and the WAL full: no room, nothing dropped
    expect(stats.failed).toBe(0);
    const url = await restart();
    await waiting;
    await producer.flush();
    expect((await producer.stats()).acknowledged).toBe(pushed);
    expect(await readPartition(url, "full", 0)).toHaveLength(pushed);
    await producer.close();
  });

  it("survives 20 SIGKILLs of the producing process: every durable event stored exactly once, in push order, and the WAL ends empty", async () => {
    const b = await testBroker();
    cleanups.push(() => removeDir(b.dir), () => b.close());
    await crashTest(b.url, cleanups);
  }, 120_000);

  it("durable() without a WAL resolves at the acknowledgement; lingerMs and maxBatchBytes cut batches", async () => {
    const b = await testBroker();
    cleanups.push(() => removeDir(b.dir), () => b.close());
    const driver = await Driver.connect(b.url);
    cleanups.push(() => driver.close());
    await driver.createTopic("plain", { partitions: 1 });
    const topic = await driver.openTopic("plain");
    const lingering = topic.producer({ batchSize: 1000, lingerMs: 50, ordering: Ordering.Strict });
    const f = lingering.push({ a: 1 });
    const t0 = Date.now();
    await f.durable(); // a fixed batch of 1,000 would wait for a flush without lingerMs
    expect(f.completed).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
    await lingering.close();
    const bytesCapped = topic.producer({ batchSize: BatchSize.Adaptive, maxBatchBytes: 4096, maxNumBatches: 1 });
    for (let i = 0; i < 2000; i++) bytesCapped.push({ i }, new Uint8Array(100));
    await bytesCapped.flush();
    const stats = await bytesCapped.stats();
    expect(stats.meanBatchEvents).toBeLessThanOrEqual(4096 / 108 + 1);
    await bytesCapped.close();
  });
});

