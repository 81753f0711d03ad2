/**
 * Recovery and reads over damaged storage (issue 9, defects 1, 3, 5): a read never
 * hangs and never serves damaged events, recovery says what it cut, one bad metadata
 * file takes only its own topic offline.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BrokerClient } from "../dist/src/drivers/tributary/broker-client.js";
import { batch, captureLogger, readOutcome, session, spawnChildBroker, within } from "./broker-helpers.js";
import { removeDir, tempDir, testBroker } from "./helpers.js";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Appends `batches` batches of 10 events (100-byte data) to partition 0; returns the event keys by ID. */
async function fill(client: BrokerClient, topic: string, batches: number): Promise<string[]> {
  const stream = client.openAppendStream();
  const keys: string[] = [];
  for (let seq = 0; seq < batches; seq++) {
    const ack = await stream.append({ topic, partition: 0, producerId: "p", batchSeq: seq, count: 10, records: batch(`b${seq}`, 10, 100) });
    expect(ack.error).toBeFalsy();
    for (let i = 0; i < 10; i++) keys[ack.firstEventId + i] = JSON.stringify({ k: `b${seq}-${i}` });
  }
  stream.end();
  return keys;
}

const segmentsOf = (dir: string, topic: string): string[] =>
  fs.readdirSync(path.join(dir, "topics", topic, "partition-0")).filter((f) => f.endsWith(".log")).sort().map((f) => path.join(dir, "topics", topic, "partition-0", f));

describe("broker recovery", () => {
  it("answers a read across a truncated older segment with CORRUPT after the intact events, and keeps serving (defect 1)", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    // The repro of the issue: 9+ segments of 8 KiB, an older .log cut by 5 bytes, restart, read from earliest.
    let broker = await spawnChildBroker({ dir, segmentBytes: 8192 });
    cleanups.push(broker.stop);
    let client = new BrokerClient(broker.url);
    await client.createTopic({ name: "g", partitions: 1 });
    const keys = await fill(client, "g", 80);
    client.close();
    await broker.stop();
    const segments = segmentsOf(dir, "g");
    expect(segments.length).toBeGreaterThanOrEqual(9);
    const victim = segments[2]!;
    fs.truncateSync(victim, fs.statSync(victim).size - 5);
    const firstOfNext = Number(path.basename(segments[3]!, ".log"));

    // A child process: a broker that spins must not take the test runner down with it.
    broker = await spawnChildBroker({ dir, segmentBytes: 8192 });
    cleanups.push(broker.stop);
    client = new BrokerClient(broker.url);
    cleanups.push(() => client.close());
    const read = await readOutcome(client, "g", 0, "earliest", 5000);
    expect(read.error).toMatchObject({ code: "CORRUPT", message: expect.stringContaining(`resume at offset ${firstOfNext}`) });
    // Nothing before the damage is lost, nothing served differs from what was written.
    const lastIntact = read.events.length;
    expect(read.events.map((e) => e.id)).toEqual([...Array(lastIntact).keys()]);
    for (const e of read.events) expect(e.metadata).toBe(keys[e.id]);
    expect(lastIntact).toBeGreaterThan(Number(path.basename(segments[2]!, ".log")));
    // The rest reads from the offset the error names; the broker answers other calls meanwhile.
    const rest = await readOutcome(client, "g", 0, { offset: firstOfNext });
    expect(rest.error).toBeUndefined();
    expect(rest.events.map((e) => e.metadata)).toEqual(keys.slice(firstOfNext));
    expect((await within(2000, "describe", client.describeTopic("g"))).partitionInfo[0]!.nextOffset).toBe(keys.length);
    expect(broker.output()).toMatch(/cut \d+ bytes from the end of .*00000000000000000\d+\.log/);
  });

  it("never serves a batch whose bytes changed in an older segment: CORRUPT for it, the rest intact (defect 3)", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const first = await session(dir, { segmentBytes: 8192 });
    await first.client.createTopic({ name: "f", partitions: 1 });
    const keys = await fill(first.client, "f", 30);
    await first.close();
    const older = segmentsOf(dir, "f")[1]!;
    const bytes = fs.readFileSync(older);
    bytes[200] ^= 0xff; // inside the first batch's records: its header and the index still agree
    fs.writeFileSync(older, bytes);

    const { client, close } = await session(dir, { segmentBytes: 8192, logger: captureLogger().logger });
    cleanups.push(close);
    const read = await readOutcome(client, "f", 0);
    const base = Number(path.basename(older, ".log"));
    expect(read.error).toMatchObject({ code: "CORRUPT", message: expect.stringContaining(`events ${base} to ${base + 9}`) });
    expect(read.events.map((e) => e.metadata)).toEqual(keys.slice(0, base));
    const rest = await readOutcome(client, "f", 0, { offset: base + 10 });
    expect(rest.events.map((e) => e.metadata)).toEqual(keys.slice(base + 10));
  });

  it("keeps the valid batches behind damage in the active segment and logs what recovery cut (defect 3)", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const first = await session(dir);
    await first.client.createTopic({ name: "a", partitions: 1 });
    const keys = await fill(first.client, "a", 5);
    await first.close();
    const [active] = segmentsOf(dir, "a");
    const bytes = fs.readFileSync(active!);
    const frame = Math.floor(bytes.byteLength / 5);
    bytes[frame + 100] ^= 0xff; // inside the second batch
    fs.writeFileSync(active!, bytes);

    const { lines, logger } = captureLogger();
    const { client, close } = await session(dir, { logger });
    cleanups.push(close);
    expect(lines.join("\n")).toMatch(/damaged bytes at .*\.log:\d+; events 10 to 19 are lost/);
    expect((await client.describeTopic("a")).partitionInfo[0]!.nextOffset).toBe(50);
    const head = await readOutcome(client, "a", 0);
    expect(head.events.map((e) => e.metadata)).toEqual(keys.slice(0, 10));
    expect(head.error).toMatchObject({ code: "CORRUPT", message: expect.stringContaining("resume at offset 20") });
    expect((await readOutcome(client, "a", 0, { offset: 20 })).events.map((e) => e.metadata)).toEqual(keys.slice(20));
    // New events go after the kept ones: no ID of a stored event is given out again.
    const ack = await client.openAppendStream().append({ topic: "a", partition: 0, producerId: "q", batchSeq: 0, count: 1, records: batch("new", 1) });
    expect(ack.firstEventId).toBe(50);
  });

  it("answers a Read on an unknown topic or partition at once (defect 2)", async () => {
    const broker = await testBroker();
    const client = new BrokerClient(broker.url);
    cleanups.push(() => removeDir(broker.dir), () => broker.close(), () => client.close());
    await client.createTopic({ name: "three", partitions: 3 });
    const unknown = await readOutcome(client, "nope", 0, "earliest", 2000);
    expect(unknown.error).toMatchObject({ code: "UNKNOWN_TOPIC", message: expect.stringContaining("'nope'") });
    const bad = await readOutcome(client, "three", 7, "earliest", 2000);
    expect(bad.error).toMatchObject({ code: "BAD_PARTITION", message: expect.stringContaining("no partition 7") });
  });

  it("leaves a topic with unreadable metadata offline, serves the others, and survives damaged cursor files (defect 5)", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const first = await session(dir);
    for (const name of ["bad", "good", "cur"]) await first.client.createTopic({ name, partitions: 1 });
    const goodKeys = await fill(first.client, "good", 2);
    await fill(first.client, "cur", 1);
    await first.client.commitCursor("cur", "c1", 0, 5);
    await first.close();
    fs.writeFileSync(path.join(dir, "topics/bad/topic.json"), "");
    for (const f of fs.readdirSync(path.join(dir, "topics/cur")).filter((f) => f.startsWith("cursors."))) {
      fs.writeFileSync(path.join(dir, "topics/cur", f), "{\"c1\": {\"0\": 5");
    }

    const { lines, logger } = captureLogger();
    const { client, close } = await session(dir, { logger });
    cleanups.push(close);
    expect((await client.listTopics()).map((t) => t.name)).toEqual(["cur", "good"]);
    await expect(client.describeTopic("bad")).rejects.toMatchObject({ code: "UNKNOWN_TOPIC", message: expect.stringContaining("offline") });
    expect(lines.join("\n")).toMatch(/topic 'bad' is offline: .*topic\.json is not valid JSON/);
    expect((await readOutcome(client, "good", 0)).events.map((e) => e.metadata)).toEqual(goodKeys);
    expect([undefined, 5]).toContain(await client.fetchCursor("cur", "c1", 0));
    await client.commitCursor("cur", "c1", 0, 7);
    expect(await client.fetchCursor("cur", "c1", 0)).toBe(7);
  });

  it("does not bring old data back when a topic whose topic.json was deleted is created again (defect 5)", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const first = await session(dir);
    await first.client.createTopic({ name: "re", partitions: 1 });
    await fill(first.client, "re", 3);
    await first.close();
    fs.rmSync(path.join(dir, "topics/re/topic.json"));

    const { client, close } = await session(dir, { logger: captureLogger().logger });
    cleanups.push(close);
    const info = await client.createTopic({ name: "re", partitions: 2 });
    expect(info.partitionInfo.map((p) => p.nextOffset)).toEqual([0, 0]);
    expect((await readOutcome(client, "re", 0)).events).toEqual([]);
    const ack = await client.openAppendStream().append({ topic: "re", partition: 0, producerId: "p", batchSeq: 0, count: 1, records: batch("fresh", 1) });
    expect(ack.firstEventId).toBe(0);
  });
});
