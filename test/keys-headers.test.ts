// Keys and headers are stored with their events, on the pool and inline, and come back
// to consumers; records without them keep the original layout.
import { afterEach, describe, expect, it } from "vitest";
import { Driver, ValidationError, type ConsumedEvent } from "../dist/src/index.js";
import { encodeRecords, iterateRecords, checkRecords, recordOffset, isOneRecord, fnv1a32 } from "../dist/src/internal.js";
import { removeDir, testBroker } from "./helpers.js";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const enc = new TextEncoder();

describe("record layout", () => {
  it("round-trips keys and headers, and leaves records without them as they were", () => {
    const plain = encodeRecords([{ metadata: enc.encode("{}"), data: Uint8Array.of(1, 2) }]);
    expect([...plain.subarray(0, 8)]).toEqual([2, 0, 0, 0, 2, 0, 0, 0]); // the original prefix
    const blob = encodeRecords([
      { metadata: enc.encode('{"a":1}'), key: "k-é", headers: { trace: "abc", "x-empty": "" } },
      { metadata: enc.encode('{"b":2}'), data: Uint8Array.of(9) },
      { metadata: enc.encode('{"c":3}'), headers: { __proto__: "p", only: "h" } as Record<string, string> },
      { metadata: enc.encode("{}"), key: "" },
    ]);
    checkRecords(blob, 4, 1 << 20);
    const records = [...iterateRecords(blob, 4)];
    expect(records.map((r) => Buffer.from(r.metadata).toString())).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', "{}"]);
    expect(records[0]).toMatchObject({ key: "k-é", headers: { trace: "abc", "x-empty": "" } });
    expect(records[1]!.key).toBeUndefined();
    expect([...records[1]!.data]).toEqual([9]);
    expect(records[2]!.key).toBeUndefined();
    expect(records[2]!.headers!["only"]).toBe("h");
    expect(Object.getPrototypeOf(records[2]!.headers)).toBeNull();
    expect(records[3]!.key).toBe("");
    expect(recordOffset(blob, 2)).toBeGreaterThan(recordOffset(blob, 1));
    expect(isOneRecord(blob.subarray(recordOffset(blob, 1), recordOffset(blob, 2)))).toBe(true);
    // A damaged ext length is caught by the broker's walk.
    const bad = Uint8Array.from(blob);
    new DataView(bad.buffer).setUint32(8, 1 << 30, true);
    expect(() => checkRecords(bad, 4, 1 << 20)).toThrow(/above the event limit|past the end/);
  });
});

describe("keys and headers end to end", () => {
  it("are stored with each event on the pool and inline, drive key-hash, and reach consumers", async () => {
    const b = await testBroker();
    cleanups.push(() => removeDir(b.dir), () => b.close());
    const driver = await Driver.connect(b.url);
    cleanups.push(() => driver.close());
    await driver.createTopic("kh", { partitions: 3, partitionSelector: "key-hash" });
    const topic = await driver.openTopic("kh");
    for (const threads of [0, 1]) {
      const producer = topic.producer({ threadPool: driver.makeThreadPool(threads) });
      for (let i = 0; i < 30; i++) {
        const key = `user-${i % 5}`;
        producer.push({ i, threads }, undefined, i % 3 === 0 ? { key } : { key, headers: { trace: `t${i}`, ["h-" + threads]: "yes" } });
      }
      producer.push({ plain: true, threads }); // neither key nor headers
      const bad = producer.push({ bad: true }, undefined, { headers: { n: 1 as unknown as string } });
      await producer.close();
      expect(bad.error).toBeInstanceOf(ValidationError);
      expect(bad.error!.message).toMatch(/header "n" is a number, not a string/);
    }
    const events: ConsumedEvent[] = [];
    for await (const e of topic.consumer({ name: "c", follow: false })) events.push(e);
    expect(events).toHaveLength(62);
    for (const e of events) {
      const md = e.metadata as { i?: number; threads: number };
      if (md.i === undefined) {
        expect([e.key, e.headers]).toEqual([undefined, undefined]);
        continue;
      }
      expect(e.key).toBe(`user-${md.i % 5}`);
      expect(e.partition).toBe(fnv1a32(e.key!) % 3); // the key still chooses the partition
      if (md.i % 3 === 0) expect(e.headers).toBeUndefined();
      else expect({ ...e.headers }).toEqual({ trace: `t${md.i}`, ["h-" + md.threads]: "yes" });
    }
  });
});
