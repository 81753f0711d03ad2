// Consumers that end: reading to the end of each partition as it was when reading began,
// and stopping on an AbortSignal; topics created only if missing.
import { afterEach, describe, expect, it } from "vitest";
import { Driver, type ConsumedEvent } from "../dist/src/index.js";
import { removeDir, testBroker } from "./helpers.js";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(partitions = 3) {
  const b = await testBroker();
  cleanups.push(() => removeDir(b.dir), () => b.close());
  const driver = await Driver.connect(b.url);
  cleanups.push(() => driver.close());
  await driver.createTopic("t", { partitions });
  const topic = await driver.openTopic("t");
  return { driver, topic };
}

async function all(iterable: AsyncIterable<ConsumedEvent>): Promise<ConsumedEvent[]> {
  const out: ConsumedEvent[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

describe("finite consumers", () => {
  it("follow: false ends at the end of each partition as it was when reading began", async () => {
    const { topic } = await setup(3);
    const producer = topic.producer();
    for (let i = 0; i < 300; i++) producer.push({ i }, undefined, { partition: i % 2 }); // partition 2 stays empty
    await producer.flush();
    // Keep producing while the finite consumer reads: it still ends, at the ends it saw
    // when it began (which include at least the first 300 events).
    let more = true;
    let pushed = 300;
    const background = (async () => {
      while (more) {
        producer.push({ i: pushed }, undefined, { partition: pushed++ % 2 });
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const consumer = topic.consumer({ name: "snapshot", follow: false });
    const events = await all(consumer);
    await producer.flush();
    const atEnd = pushed;
    await new Promise((r) => setTimeout(r, 100));
    more = false;
    await background;
    expect(events.length).toBeGreaterThanOrEqual(300);
    expect(events.length).toBeLessThan(pushed);
    expect(atEnd).toBeGreaterThan(events.length);
    for (const p of [0, 1]) {
      const ids = events.filter((e) => e.partition === p).map((e) => e.id);
      expect(ids).toEqual([...ids.keys()]); // from the start, no gap, nothing twice
    }
    const fromLatest = topic.consumer({ name: "late", start: "latest", follow: false });
    expect(await fromLatest.poll(10, 1000)).toEqual([]);
    expect(fromLatest.ended).toBe(true);
    await producer.close();
  });

  it("a finite consumer resumes after its cursor, and reads nothing when that is the end", async () => {
    const { topic } = await setup(1);
    const producer = topic.producer();
    for (let i = 0; i < 20; i++) producer.push({ i });
    await producer.flush();
    const first = topic.consumer({ name: "c", follow: false });
    const events = await all(first);
    await events[9]!.acknowledge();
    const rest = await all(topic.consumer({ name: "c", follow: false }));
    expect(rest.map((e) => e.id)).toEqual([...Array(10).keys()].map((i) => i + 10));
    await rest.at(-1)!.acknowledge();
    expect(await all(topic.consumer({ name: "c", follow: false }))).toEqual([]);
    await producer.close();
  });

  it("an AbortSignal ends iteration of a following consumer and stops a poll", async () => {
    const { topic } = await setup(1);
    const controller = new AbortController();
    const consumer = topic.consumer({ name: "a", signal: controller.signal });
    const iteration = all(consumer);
    setTimeout(() => controller.abort(), 100);
    await expect(iteration).resolves.toEqual([]);
    const other = topic.consumer({ name: "b" });
    cleanups.push(() => other.close());
    const poll = other.poll(10, 60_000, { signal: AbortSignal.timeout(100) });
    await expect(poll).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("createTopic with ifNotExists returns the existing topic instead of failing", async () => {
    const { driver } = await setup(3);
    await expect(driver.createTopic("t", { partitions: 5 })).rejects.toMatchObject({ code: "TOPIC_EXISTS" });
    const again = await driver.createTopic("t", { partitions: 5, ifNotExists: true });
    expect(again).toMatchObject({ name: "t", partitions: 3 });
  });
});
