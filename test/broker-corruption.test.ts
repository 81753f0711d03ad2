/**
 * The corruption matrix (issue 9): truncate, flip a byte in, or delete each kind of file
 * (older and active segment, their indexes, topic.json, the cursor log), then start the
 * broker on the damaged copy. In every case the broker starts, every read completes or
 * fails within a deadline, nothing it serves differs from what was written, nothing
 * before the damage is lost, and new events never reuse a served ID.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient } from "../dist/src/drivers/tributary/broker-client.js";
import { batch, readAround, readOutcome, spawnChildBroker, within } from "./broker-helpers.js";
import { removeDir, tempDir, testBroker } from "./helpers.js";

const SEGMENT_BYTES = 8192;
let pristine: string;
/** Metadata of every event of topic "m" partition 0, by ID. */
let keys: string[] = [];
let otherKeys: string[] = [];
const committed = [3, 40, 77];
const work: string[] = [];
const report: string[] = [];

beforeAll(async () => {
  pristine = tempDir();
  const broker = await testBroker(pristine, { segmentBytes: SEGMENT_BYTES });
  const client = new BrokerClient(broker.url);
  await client.createTopic({ name: "m", partitions: 1 });
  await client.createTopic({ name: "other", partitions: 1 });
  const s = client.openAppendStream();
  for (let seq = 0; seq < 40; seq++) {
    const ack = await s.append({ topic: "m", partition: 0, producerId: "p", batchSeq: seq, count: 10, records: batch(`m${seq}`, 10, 60) });
    for (let i = 0; i < 10; i++) keys[ack.firstEventId + i] = JSON.stringify({ k: `m${seq}-${i}` });
  }
  const o = await s.append({ topic: "other", partition: 0, producerId: "p", batchSeq: 0, count: 5, records: batch("o", 5) });
  otherKeys = Array.from({ length: 5 }, (_, i) => JSON.stringify({ k: `o-${i}` }));
  expect(o.firstEventId).toBe(0);
  for (const offset of committed) await client.commitCursor("m", "c", 0, offset);
  client.close();
  await broker.close();
});
afterAll(() => {
  console.log(`corruption matrix:\n${report.join("\n")}`);
  for (const d of [pristine, ...work]) removeDir(d);
});

const partitionDir = (dir: string): string => path.join(dir, "topics/m/partition-0");
const segmentFiles = (dir: string, ext: string): string[] =>
  fs.readdirSync(partitionDir(dir)).filter((f) => f.endsWith(ext)).sort().map((f) => path.join(partitionDir(dir), f));

type Target = { kind: string; file(dir: string): string; /** First event ID the damage can touch. */ firstAffected(dir: string): number };
const baseOf = (file: string): number => Number(path.basename(file).slice(0, 20));
const TARGETS: Target[] = [
  { kind: "older .log", file: (d) => segmentFiles(d, ".log")[1]!, firstAffected: (d) => baseOf(segmentFiles(d, ".log")[1]!) },
  { kind: "active .log", file: (d) => segmentFiles(d, ".log").at(-1)!, firstAffected: (d) => baseOf(segmentFiles(d, ".log").at(-1)!) },
  { kind: "older .idx", file: (d) => segmentFiles(d, ".idx")[1]!, firstAffected: () => Infinity },
  { kind: "active .idx", file: (d) => segmentFiles(d, ".idx").at(-1)!, firstAffected: () => Infinity },
  { kind: "topic.json", file: (d) => path.join(d, "topics/m/topic.json"), firstAffected: () => 0 },
  { kind: "cursor log", file: (d) => path.join(d, "topics/m/cursors.log"), firstAffected: () => Infinity },
];
const DAMAGES: Record<string, (file: string) => void> = {
  truncate: (f) => fs.truncateSync(f, Math.max(0, fs.statSync(f).size - 5)),
  flip: (f) => {
    const b = fs.readFileSync(f);
    b[Math.floor(b.byteLength / 2)] ^= 0xff;
    fs.writeFileSync(f, b);
  },
  delete: (f) => fs.rmSync(f),
};

describe("corruption matrix", () => {
  for (const target of TARGETS) {
    for (const [damage, apply] of Object.entries(DAMAGES)) {
      it(`${damage} ${target.kind}`, async () => {
        const dir = tempDir();
        work.push(dir);
        fs.cpSync(pristine, dir, { recursive: true });
        const victim = target.file(dir);
        const firstAffected = target.firstAffected(dir);
        apply(victim);

        // A child process, so a broker that hangs cannot hang the suite: every call has a deadline.
        const broker = await spawnChildBroker({ dir, segmentBytes: SEGMENT_BYTES });
        const client = new BrokerClient(broker.url);
        try {
          expect((await readOutcome(client, "other", 0)).events.map((e) => e.metadata)).toEqual(otherKeys);
          if (target.kind === "topic.json") {
            if (damage === "delete") await expect(client.describeTopic("m")).rejects.toMatchObject({ code: "UNKNOWN_TOPIC" });
            else await expect(client.describeTopic("m")).rejects.toMatchObject({ code: "UNKNOWN_TOPIC", message: expect.stringContaining("offline") });
            report.push(`  ${damage} ${target.kind}: topic offline, others serve`);
            return;
          }
          const { events, corrupt } = await within(15_000, "reading around the damage", readAround(client, "m", 0));
          // Never serves data that differs from what was written, never an event twice.
          for (const e of events) expect(e.metadata, `event ${e.id}`).toBe(keys[e.id]);
          expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
          // Loses nothing before the damage.
          const before = keys.slice(0, Math.min(firstAffected, keys.length));
          expect(events.slice(0, before.length).map((e) => e.metadata)).toEqual(before);
          if (firstAffected === Infinity) expect(corrupt).toEqual([]);
          for (const message of corrupt) expect(message).toMatch(/damaged or missing/);
          const cursor = await client.fetchCursor("m", "c", 0);
          expect([undefined, ...committed]).toContain(cursor);
          // New events take IDs after every event served.
          const ack = await client.openAppendStream().append({ topic: "m", partition: 0, producerId: "after", batchSeq: 0, count: 1, records: batch("after", 1) });
          expect(ack.error).toBeFalsy();
          const servedMax = Math.max(-1, ...events.map((e) => e.id));
          expect(ack.firstEventId).toBeGreaterThan(servedMax);
          report.push(
            `  ${damage} ${target.kind}: served ${events.length}/${keys.length} events, all intact; ${corrupt.length} CORRUPT range(s); ` +
              `cursor ${cursor ?? "none"}; next ID ${ack.firstEventId}`,
          );
        } finally {
          client.close();
          await broker.stop();
        }
      });
    }
  }
});
