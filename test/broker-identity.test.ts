/**
 * Names and identities (issue 9, defects 6, 7, 9, 11): topic IDs fence producers of a
 * deleted topic, hostile consumer names stay data, one broker per directory, cursor
 * generations fence stale consumer instances.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Driver } from "../dist/src/index.js";
import { startBroker } from "../dist/src/broker/index.js";
import { BrokerClient, appendError } from "../dist/src/drivers/tributary/broker-client.js";
import { batch, captureLogger, readOutcome, session, spawnChildBroker } from "./broker-helpers.js";
import { removeDir, tempDir, testBroker } from "./helpers.js";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("broker identities", () => {
  it("refuses a producer of a deleted topic once the name is created again (defect 6)", async () => {
    const broker = await testBroker();
    cleanups.push(() => removeDir(broker.dir), () => broker.close());
    const driver = await Driver.connect(broker.url);
    cleanups.push(() => driver.close());
    await driver.createTopic("ids", { partitions: 1 });
    const topic = await driver.openTopic("ids");
    const producer = topic.producer({ name: "old", threadPool: driver.makeThreadPool(0), deliveryTimeoutMs: 5000 });
    expect(await producer.push({ n: 0 })).toBe(0);
    await driver.deleteTopic("ids");
    await driver.createTopic("ids", { partitions: 1 });
    const late = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => producer.push({ n: i + 1 })));
    expect(late.every((r) => r.status === "rejected" && (r.reason as { code: string }).code === "UNKNOWN_TOPIC")).toBe(true);
    expect((late[0] as PromiseRejectedResult).reason.message).toMatch(/deleted and created again/);
    const client = new BrokerClient(broker.url);
    cleanups.push(() => client.close());
    expect((await readOutcome(client, "ids", 0)).events).toEqual([]);
    // A client that sends no topic ID (before topic IDs) is not checked; a stale ID is refused.
    const info = await client.describeTopic("ids");
    expect(info.topicId).toMatch(/^[0-9a-f]{16}$/);
    const s = client.openAppendStream();
    expect(await s.append({ topic: "ids", partition: 0, producerId: "legacy", batchSeq: 0, count: 1, records: batch("l", 1) })).toMatchObject({ firstEventId: 0 });
    expect(await s.append({ topic: "ids", partition: 0, producerId: "cur", batchSeq: 0, count: 1, records: batch("c", 1), topicId: info.topicId })).toMatchObject({ firstEventId: 1 });
    const stale = await s.append({ topic: "ids", partition: 0, producerId: "stale", batchSeq: 0, count: 1, records: batch("s", 1), topicId: "0123456789abcdef" });
    expect(appendError(stale)).toMatchObject({ code: "UNKNOWN_TOPIC" });
  });

  it("keeps consumer names like __proto__, constructor and toString apart, also after a restart (defect 7)", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    // A child process: a polluted Object.prototype must not leak into the test runner.
    let broker = await spawnChildBroker({ dir });
    cleanups.push(broker.stop);
    let client = new BrokerClient(broker.url);
    await client.createTopic({ name: "names", partitions: 2 });
    await client.commitCursor("names", "__proto__", 0, 111);
    await client.commitCursor("names", "__proto__", 1, 112);
    await client.commitCursor("names", "toString", 0, 333);
    const check = async (c: BrokerClient) => {
      expect(await c.fetchCursor("names", "__proto__", 0)).toBe(111);
      expect(await c.fetchCursor("names", "__proto__", 1)).toBe(112);
      expect(await c.fetchCursor("names", "toString", 0)).toBe(333);
      for (const name of ["constructor", "hasOwnProperty", "valueOf", "0"]) expect(await c.fetchCursor("names", name, 0)).toBeUndefined();
      expect(await c.fetchCursor("names", "toString", 1)).toBeUndefined();
    };
    await check(client);
    client.close();
    await broker.stop();
    broker = await spawnChildBroker({ dir });
    cleanups.push(broker.stop);
    client = new BrokerClient(broker.url);
    cleanups.push(() => client.close());
    await check(client);
  });

  it("refuses a second broker on the same data directory and says which process holds it; takes over a stale lock (defect 9)", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const first = await spawnChildBroker({ dir });
    cleanups.push(first.stop);
    await expect(startBroker({ dir, port: 0 })).rejects.toThrow(new RegExp(`in use by broker pid ${first.child.pid}`));
    await expect(startBroker({ dir, port: 0 })).rejects.toThrow(/Stop that broker first/);
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    const { lines, logger } = captureLogger();
    const second = await startBroker({ dir, port: 0, logger });
    cleanups.push(() => second.close());
    expect(lines.join("\n")).toMatch(new RegExp(`taking over the lock .*pid ${first.child.pid}\\) is no longer running`));
    // In one process too.
    await expect(startBroker({ dir, port: 0 })).rejects.toThrow(/already in use by a broker in this process/);
  });

  it("fences the cursor commits of a consumer instance that a newer one replaced (defect 11)", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const first = await session(dir);
    let client = first.client;
    await client.createTopic({ name: "cur", partitions: 2 });
    // Without claims, commits work as before (clients that know no generations).
    await client.commitCursor("cur", "legacy", 0, 5);
    expect(await client.fetchCursor("cur", "legacy", 0)).toBe(5);

    const a = await client.claimCursor("cur", "c", 0);
    await client.commitCursor("cur", "c", 0, 20_000, a.generation);
    const b = await client.claimCursor("cur", "c", 0);
    expect(b).toEqual({ nextOffset: 20_000, generation: a.generation + 1 });
    // The stale instance may no longer move the cursor (backwards or forwards).
    await expect(client.commitCursor("cur", "c", 0, 6_200, a.generation)).rejects.toMatchObject({
      code: "FENCED",
      message: expect.stringContaining(`generation ${a.generation} was replaced by generation ${b.generation}`),
    });
    await expect(client.commitCursor("cur", "c", 0, 6_200)).rejects.toMatchObject({ code: "FENCED", message: expect.stringContaining("must carry its generation") });
    await expect(client.commitCursor("cur", "c", 0, 1, b.generation + 5)).rejects.toMatchObject({ code: "FENCED", message: expect.stringContaining("never issued") });
    await client.commitCursor("cur", "c", 0, 20_100, b.generation);
    expect(await client.fetchCursor("cur", "c", 0)).toBe(20_100);
    // Generations are per partition: an instance over other partitions is not fenced.
    const other = await client.claimCursor("cur", "c", 1);
    await client.commitCursor("cur", "c", 1, 3, other.generation);
    await first.close();

    const second = await session(dir);
    cleanups.push(second.close);
    client = second.client;
    expect(await client.claimCursor("cur", "c", 0)).toEqual({ nextOffset: 20_100, generation: b.generation + 1 });
    await expect(client.commitCursor("cur", "c", 0, 1, b.generation)).rejects.toMatchObject({ code: "FENCED" });
  });
});
