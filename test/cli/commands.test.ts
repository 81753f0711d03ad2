// The commands end to end against a `tributary serve` child process (moved from
// test/cli.test.ts; the old assertions kept, on the new command line).
import { afterEach, describe, expect, it } from "vitest";
import { Driver } from "../../dist/src/index.js";
import { removeDir, spawnBroker, tempDir } from "../helpers.js";
import { cli, startCli, waitFor } from "./run.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("tributary CLI", () => {
  it("serve --metrics-port serves the broker's Prometheus metrics, counting what was appended", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const run = startCli(["serve", "--dir", dir, "--port", "0", "--metrics-port", "0"]);
    cleanups.push(() => void (run.child.exitCode === null && run.child.kill("SIGKILL")));
    const url = (await waitFor(run.stdout, /listening on (tributary:\/\/\S+)/))[1]!;
    const metricsUrl = (await waitFor(run.stdout, /metrics on (http:\/\/\S+)/))[1]!;
    const driver = await Driver.connect(url);
    await driver.createTopic("m", { partitions: 1 });
    const producer = (await driver.openTopic("m")).producer();
    for (let i = 0; i < 7; i++) producer.push({ i });
    await producer.close();
    await driver.close();
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toMatch(/^# TYPE \S+ counter$/m);
    expect(text).toMatch(/^tributary_broker_append_events_total\{topic="m"[^}]*\} 7$/m);
    run.child.kill("SIGTERM");
    expect((await run.finished).code).toBe(0);
  });

  it("serves, manages topics, consumes as JSON lines, and closes cleanly on SIGTERM", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const { child, url } = await spawnBroker(dir);
    cleanups.push(() => void (child.exitCode === null && child.kill("SIGKILL")));

    const created = await cli(["topic", "create", "cli-t", "--partitions", "2", "--json", "--broker", url]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: "cli-t", partitions: 2 });
    expect((await cli(["topic", "list", "--json", "--broker", url])).stdout).toContain('"name":"cli-t"');

    const driver = await Driver.connect(url);
    const topic = await driver.openTopic("cli-t");
    const producer = topic.producer();
    for (let i = 0; i < 5; i++) producer.push({ i }, Uint8Array.of(i, 255), { partition: 1 });
    await producer.close();
    await driver.close();

    const consumed = await cli(["consume", "cli-t", "--partition", "1", "--from", "2", "--broker", url]);
    const lines = consumed.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.partition, l.id, l.metadata.i])).toEqual([[1, 2, 2], [1, 3, 3], [1, 4, 4]]);
    expect(Buffer.from(lines[0].data, "base64")).toEqual(Buffer.from([2, 255]));

    const described = JSON.parse((await cli(["topic", "describe", "cli-t", "--json", "--broker", url])).stdout);
    expect(described.partitionInfo.map((p: { nextOffset: number }) => p.nextOffset)).toEqual([0, 5]);
    expect((await cli(["topic", "delete", "cli-t", "--broker", url])).stdout).toContain("deleted cli-t");
    expect(await cli(["topic", "describe", "cli-t", "--broker", url])).toMatchObject({ code: 1, stderr: expect.stringContaining("'cli-t' does not exist") });

    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("explains bad command lines with exit code 2", async () => {
    const [serve, unknown, ordering, badUrl] = await Promise.all([
      cli(["serve"]),
      cli(["frobnicate"]),
      cli(["produce", "--ordering", "sideways"]),
      cli(["topic", "create", "x", "--broker", "http://nope"]),
    ]);
    expect(serve).toMatchObject({ code: 2, stderr: expect.stringContaining("required option '--dir <DATA>' not specified") });
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown command 'frobnicate'") });
    expect(ordering).toMatchObject({ code: 2, stderr: expect.stringMatching(/'--ordering <MODE>' argument 'sideways' is invalid\. Allowed choices are strict, loose/) });
    expect(badUrl).toMatchObject({ code: 1, stderr: expect.stringContaining("tributary://host:port") });
  });

  it("runs the showcase end to end on the embedded broker and verifies what it read back (as `produce` without a topic)", async () => {
    const { code, stdout } = await cli(["produce", "--events", "20000", "--threads", "2"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/acknowledged 20,000 events .* events\/s/);
    expect(stdout).toContain("verified: 20,000 events, every partition in push order, IDs contiguous");
  });
});
