/**
 * Fault injection through the storage I/O seam: failed fdatasyncs, failed and partial
 * index writes, a failed roll and a failed topic creation. Each fails what it must,
 * leaves nothing half-done behind, and names what happened.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker, type StartBrokerOptions } from "../dist/src/broker/index.js";
import { BrokerClient, appendError } from "../dist/src/drivers/tributary/broker-client.js";
import { batch, captureLogger, readOutcome } from "./broker-helpers.js";
import { removeDir, tempDir } from "./helpers.js";
import { ModelIO } from "./storage-model.js";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const errno = (code: string, what: string): Error => Object.assign(new Error(`${code}: ${what} (injected)`), { code });

async function start(options: Partial<StartBrokerOptions> & { io: ModelIO }) {
  const dir = options.dir ?? tempDir();
  const { lines, logger } = captureLogger();
  const broker = await startBroker({ dir, port: 0, logger, ...options });
  const client = new BrokerClient(broker.url);
  const stop = async () => {
    client.close();
    await broker.close();
  };
  cleanups.push(() => removeDir(dir));
  cleanups.push(stop);
  return { dir, broker, client, lines, stop };
}

describe("fault injection", () => {
  it("fsync always: a failed fdatasync fails its batch's ack and stops appends to that partition only", async () => {
    const io = new ModelIO();
    const { dir, client, lines, stop } = await start({ io, fsync: "always" });
    await client.createTopic({ name: "fs", partitions: 2 });
    const s = client.openAppendStream();
    expect(await s.append({ topic: "fs", partition: 0, producerId: "p", batchSeq: 0, count: 5, records: batch("ok", 5) })).toMatchObject({ firstEventId: 0 });
    io.faults.datasync = (file) => (file.includes("partition-0") ? errno("EIO", `fdatasync ${file}`) : undefined);
    const failed = await s.append({ topic: "fs", partition: 0, producerId: "p", batchSeq: 1, count: 5, records: batch("lost?", 5) });
    expect(appendError(failed)).toMatchObject({ code: "STORAGE", message: expect.stringContaining("fsync failed, durability unknown") });
    io.faults.datasync = undefined;
    // After a failed fsync the page cache may not match the disk: no more appends there,
    // not even a re-send (it would be acknowledged from memory).
    for (const seq of [1, 2]) {
      const refused = await s.append({ topic: "fs", partition: 0, producerId: "p", batchSeq: seq, count: 1, records: batch("after", 1) });
      expect(appendError(refused)).toMatchObject({ code: "STORAGE", message: expect.stringContaining("refuses appends since a write or fsync failed") });
    }
    expect(await s.append({ topic: "fs", partition: 1, producerId: "p", batchSeq: 3, count: 1, records: batch("p1", 1) })).toMatchObject({ firstEventId: 0 });
    expect(lines.join("\n")).toMatch(/topic 'fs' partition 0: appends refused from now on: EIO/);
    expect((await readOutcome(client, "fs", 0)).events.slice(0, 5).map((e) => e.metadata)).toEqual(Array.from({ length: 5 }, (_, i) => `{"k":"ok-${i}"}`));
    await stop();

    // A restart recovers from what is on disk; appends work again, after what is stored.
    const again = await start({ io: new ModelIO(), dir, fsync: "always" });
    const stored = (await readOutcome(again.client, "fs", 0)).events;
    expect(stored.slice(0, 5).map((e) => e.id)).toEqual([0, 1, 2, 3, 4]);
    const next = await again.client.openAppendStream().append({ topic: "fs", partition: 0, producerId: "q", batchSeq: 0, count: 1, records: batch("q", 1) });
    expect(next.firstEventId).toBe(stored.length);
  });

  it("fsync interval: a failed background fdatasync stops appends to the partition and is logged", async () => {
    const io = new ModelIO();
    const { client, lines } = await start({ io, fsync: "interval", fsyncIntervalMs: 20 });
    await client.createTopic({ name: "fi", partitions: 1 });
    const s = client.openAppendStream();
    io.faults.datasync = (file) => (file.endsWith(".log") ? errno("EIO", `fdatasync ${file}`) : undefined);
    expect(await s.append({ topic: "fi", partition: 0, producerId: "p", batchSeq: 0, count: 1, records: batch("a", 1) })).toMatchObject({ firstEventId: 0 });
    await new Promise((r) => setTimeout(r, 100));
    const refused = await s.append({ topic: "fi", partition: 0, producerId: "p", batchSeq: 1, count: 1, records: batch("b", 1) });
    expect(appendError(refused)).toMatchObject({ code: "STORAGE" });
    expect(lines.join("\n")).toMatch(/topic 'fi' partition 0: appends refused from now on: EIO: fdatasync/);
  });

  it("a failed or partial index write refuses the batch and leaves nothing of it behind", async () => {
    class PartialIndexWrites extends ModelIO {
      armed = 0;
      override writev(fd: number, buffers: readonly Uint8Array[], position: number): number {
        const file = (this as unknown as { fdPath: Map<number, string> }).fdPath.get(fd) ?? "";
        if (this.armed > 0 && file.endsWith(".idx")) {
          this.armed--;
          // Half an entry reaches the file, then the disk is full.
          super.write(fd, Buffer.from(buffers[0]!).subarray(0, 10), position);
          throw errno("ENOSPC", `write ${file}`);
        }
        return super.writev(fd, buffers, position);
      }
    }
    const io = new PartialIndexWrites();
    const { dir, client, stop } = await start({ io, fsync: "always" });
    await client.createTopic({ name: "ix", partitions: 1 });
    const s = client.openAppendStream();
    await s.append({ topic: "ix", partition: 0, producerId: "p", batchSeq: 0, count: 3, records: batch("a", 3) });
    io.armed = 1;
    const refused = await s.append({ topic: "ix", partition: 0, producerId: "p", batchSeq: 1, count: 3, records: batch("b", 3) });
    expect(appendError(refused)).toMatchObject({ code: "STORAGE", message: expect.stringContaining("ENOSPC") });
    // The next batch takes the refused one's IDs and place.
    expect(await s.append({ topic: "ix", partition: 0, producerId: "p", batchSeq: 2, count: 3, records: batch("c", 3) })).toMatchObject({ firstEventId: 3 });
    const keys = ["a-0", "a-1", "a-2", "c-0", "c-1", "c-2"].map((k) => JSON.stringify({ k }));
    expect((await readOutcome(client, "ix", 0)).events.map((e) => e.metadata)).toEqual(keys);
    const idx = fs.readdirSync(path.join(dir, "topics/ix/partition-0")).find((f) => f.endsWith(".idx"))!;
    expect(fs.statSync(path.join(dir, "topics/ix/partition-0", idx)).size).toBe(2 * 36);
    await stop();
    const again = await start({ io: new ModelIO(), dir });
    expect((await readOutcome(again.client, "ix", 0)).events.map((e) => e.metadata)).toEqual(keys);
  });

  it("an index write whose undo fails too stops appends to the partition", async () => {
    const io = new ModelIO();
    const { client, lines } = await start({ io, fsync: "always" });
    await client.createTopic({ name: "stuck", partitions: 1 });
    const s = client.openAppendStream();
    io.faults.write = (file) => (file.endsWith(".idx") ? errno("EIO", `write ${file}`) : undefined);
    const original = io.truncate.bind(io);
    io.truncate = () => {
      throw errno("EIO", "ftruncate");
    };
    const refused = await s.append({ topic: "stuck", partition: 0, producerId: "p", batchSeq: 0, count: 1, records: batch("x", 1) });
    expect(appendError(refused)).toMatchObject({ code: "STORAGE", message: expect.stringContaining("undoing the partial write failed too") });
    io.faults.write = undefined;
    io.truncate = original;
    const after = await s.append({ topic: "stuck", partition: 0, producerId: "p", batchSeq: 1, count: 1, records: batch("y", 1) });
    expect(appendError(after)).toMatchObject({ code: "STORAGE", message: expect.stringContaining("refuses appends") });
    expect(lines.join("\n")).toMatch(/appends refused from now on/);
  });

  it("a failed roll refuses the batch and keeps the partition contiguous", async () => {
    const io = new ModelIO();
    const { client } = await start({ io, fsync: "always", segmentBytes: 1024 });
    await client.createTopic({ name: "roll", partitions: 1 });
    const s = client.openAppendStream();
    expect(await s.append({ topic: "roll", partition: 0, producerId: "p", batchSeq: 0, count: 5, records: batch("a", 5, 300) })).toMatchObject({ firstEventId: 0 });
    io.faults.open = (file, flags) => (file.endsWith(".log") && flags & fs.constants.O_CREAT ? errno("EMFILE", `open ${file}`) : undefined);
    const refused = await s.append({ topic: "roll", partition: 0, producerId: "p", batchSeq: 1, count: 5, records: batch("b", 5) });
    expect(appendError(refused)).toMatchObject({ code: "STORAGE", message: expect.stringContaining("EMFILE") });
    io.faults.open = undefined;
    expect(await s.append({ topic: "roll", partition: 0, producerId: "p", batchSeq: 2, count: 5, records: batch("c", 5) })).toMatchObject({ firstEventId: 5 });
    expect((await readOutcome(client, "roll", 0)).events.map((e) => e.id)).toEqual([...Array(10).keys()]);
  });

  it("a failed topic creation leaves no directory and no open file behind", async () => {
    const io = new ModelIO();
    const { dir, client } = await start({ io });
    const fds = (): number => fs.readdirSync("/proc/self/fd").length;
    await client.createTopic({ name: "warm", partitions: 1 });
    const before = fds();
    io.faults.open = (file) => (file.includes(`${path.sep}partition-5${path.sep}`) ? errno("EMFILE", `open ${file}`) : undefined);
    await expect(client.createTopic({ name: "big", partitions: 8 })).rejects.toMatchObject({ code: "STORAGE", message: expect.stringContaining("could not create topic 'big'") });
    io.faults.open = undefined;
    expect(fds()).toBe(before);
    expect(fs.readdirSync(path.join(dir, "topics")).sort()).toEqual(["warm"]);
    expect(fs.readdirSync(path.join(dir, "staging"))).toEqual([]);
    expect(fs.readdirSync(path.join(dir, "trash"))).toEqual([]);
    await expect(client.describeTopic("big")).rejects.toMatchObject({ code: "UNKNOWN_TOPIC" });
    expect((await client.createTopic({ name: "big", partitions: 8 })).partitions).toBe(8);
  });
});
