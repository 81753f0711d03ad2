// `tributary consume`: finite by default, --follow, --from (earliest, latest, ID, @TIME),
// repeated --partition, --max, --name (resume and acknowledge), a closed pipe, and
// clear errors for an unknown topic or partition.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { CLI } from "../helpers.js";
import { cli, cliEnv, fileBroker, startCli, STACK_LINE, waitFor } from "./run.js";

const parse = (stdout: string) => stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const ids = (stdout: string) => parse(stdout).map((e: { partition: number; id: number }) => `${e.partition}:${e.id}`);

/** Pushes `count` events {i} to each listed partition. */
async function fill(topic: string, partitions: number[], count: number, from = 0): Promise<void> {
  const producer = (await broker.driver.openTopic(topic)).producer();
  for (let i = from; i < from + count; i++) for (const partition of partitions) producer.push({ i }, undefined, { partition });
  await producer.close();
}

const broker = fileBroker(async (driver) => {
  await driver.createTopic("three", { partitions: 3 });
  await fill("three", [0, 1, 2], 4);
  await driver.createTopic("big", { partitions: 1 });
  await fill("big", [0], 50_000);
  await driver.createTopic("keyed", { partitions: 1 });
  const producer = (await driver.openTopic("keyed")).producer();
  producer.push({ plain: true });
  producer.push({ keyed: true }, new Uint8Array([1, 2]), { key: "user-7", headers: { trace: "abc", "content-type": "x" } });
  await producer.close();
});

describe("tributary consume", () => {
  it("ends at the end of the partitions; reads chosen partitions from an ID, a time or the end; stops after --max", async () => {
    const [all, chosen, fromId, max, latest, future, past] = await Promise.all([
      cli(["consume", "three"], { env: broker.env }),
      cli(["consume", "three", "--partition", "2", "--partition", "0"], { env: broker.env }),
      cli(["consume", "three", "--partition", "1", "--from", "2"], { env: broker.env }),
      cli(["consume", "three", "--partition", "1", "--max", "3"], { env: broker.env }),
      cli(["consume", "three", "--from", "latest"], { env: broker.env }),
      cli(["consume", "three", "--from", `@${new Date(Date.now() + 3_600_000).toISOString()}`], { env: broker.env }),
      cli(["consume", "three", "--partition", "0", "--from", "@0"], { env: broker.env }),
    ]);
    for (const r of [all, chosen, fromId, max, latest, future, past]) expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(ids(all.stdout).sort()).toEqual(["0:0", "0:1", "0:2", "0:3", "1:0", "1:1", "1:2", "1:3", "2:0", "2:1", "2:2", "2:3"]);
    expect(parse(all.stdout)[0]).toEqual({ partition: expect.any(Number), id: expect.any(Number), timestamp: expect.any(Number), metadata: { i: expect.any(Number) }, data: "" });
    expect(ids(chosen.stdout).sort()).toEqual(["0:0", "0:1", "0:2", "0:3", "2:0", "2:1", "2:2", "2:3"]);
    expect(ids(fromId.stdout)).toEqual(["1:2", "1:3"]);
    expect(ids(max.stdout)).toEqual(["1:0", "1:1", "1:2"]);
    expect(latest.stdout).toBe("");
    expect(future.stdout).toBe("");
    expect(ids(past.stdout)).toEqual(["0:0", "0:1", "0:2", "0:3"]);
  });

  it("prints an event's key and headers when it has them, by itself and as a named consumer", async () => {
    const [anonymous, named] = await Promise.all([cli(["consume", "keyed"], { env: broker.env }), cli(["consume", "keyed", "--name", "k"], { env: broker.env })]);
    for (const r of [anonymous, named]) {
      expect(r).toMatchObject({ code: 0, stderr: "" });
      const [plain, keyed] = parse(r.stdout);
      expect(Object.keys(plain)).toEqual(["partition", "id", "timestamp", "metadata", "data"]);
      expect(keyed).toMatchObject({ id: 1, key: "user-7", headers: { trace: "abc", "content-type": "x" }, metadata: { keyed: true }, data: "AQI=" });
    }
  });

  it("follows new events with --follow --from latest until Ctrl-C (exit 0)", async () => {
    const run = startCli(["consume", "three", "--partition", "1", "--from", "latest", "--follow"], { env: broker.env });
    // "latest" is where the read begins: push one event at a time until the first shows up.
    let i = 100;
    for (; !run.stdout().includes('"i"'); i++) {
      expect(i).toBeLessThan(150);
      await fill("three", [1], 1, i);
      await new Promise((r) => setTimeout(r, 200));
    }
    await fill("three", [1], 2, i);
    await waitFor(run.stdout, new RegExp(`"i":${i + 1}}`));
    run.child.kill("SIGINT");
    const r = await run.finished;
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const seen = parse(r.stdout).map((e: { metadata: { i: number } }) => e.metadata.i);
    // Everything from the first event it saw, in order, and nothing from before it started.
    expect(seen).toEqual(Array.from({ length: i + 2 - seen[0] }, (_, k) => seen[0] + k));
    expect(seen[0]).toBeGreaterThanOrEqual(100);
  });

  it("resumes a named consumer where its acknowledged cursor is", async () => {
    const first = await cli(["consume", "three", "--partition", "2", "--name", "reader", "--max", "3"], { env: broker.env });
    const second = await cli(["consume", "three", "--partition", "2", "--name", "reader"], { env: broker.env });
    const third = await cli(["consume", "three", "--partition", "2", "--name", "reader"], { env: broker.env });
    expect(ids(first.stdout)).toEqual(["2:0", "2:1", "2:2"]);
    expect(ids(second.stdout)).toEqual(["2:3"]);
    expect(third).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const log = await (await import("../../dist/src/internal.js")).connectDriver(broker.url);
    expect(await log.fetchCursor("three", "reader", 2)).toBe(4);
    await log.close();
  });

  it("exits quietly with 0 when the reader of its output goes away (| head -2)", async () => {
    const { stdout, stderr } = await promisify(execFile)("bash", ["-c", `set -o pipefail; "${process.execPath}" "${CLI}" consume big | head -2`], { env: cliEnv(broker.env), timeout: 30_000 });
    expect(stdout.trim().split("\n")).toHaveLength(2);
    expect(stderr).toBe("");
  });

  it("fails clearly, and at once, on an unknown topic or partition", async () => {
    const started = Date.now();
    const [topic, partition, named, follow] = await Promise.all([
      cli(["consume", "nope"], { env: broker.env }),
      cli(["consume", "three", "--partition", "3"], { env: broker.env }),
      cli(["consume", "three", "--partition", "7", "--name", "x"], { env: broker.env }),
      cli(["consume", "nope", "--follow"], { env: broker.env }),
    ]);
    expect(topic).toMatchObject({ code: 1, stderr: "tributary: topic 'nope' does not exist\n" });
    expect(partition).toMatchObject({ code: 1, stderr: "tributary: topic 'three' has 3 partitions (0..2); there is no partition 3\n" });
    expect(named).toMatchObject({ code: 1, stderr: expect.stringContaining("there is no partition 7") });
    expect(follow).toMatchObject({ code: 1, stderr: expect.stringContaining("does not exist") });
    for (const r of [topic, partition, named, follow]) expect(r.stderr).not.toMatch(STACK_LINE);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
