// `tributary produce TOPIC`: JSON lines from stdin through the topic's pipeline, an ack
// per line (or the failed ones, or a summary), keys, one partition, base64 data, raw
// lines; a bad line fails alone (exit 1); stdin is read no faster than the producer
// takes events.
import { describe, expect, it } from "vitest";
import { Driver } from "../../dist/src/index.js";
import { lines } from "../../dist/src/cli/produce.js";
import { fnv1a32 } from "../../dist/src/pipeline/builtins/key-hash-selector.js";
import { readPartition, removeDir, spawnBroker, tempDir } from "../helpers.js";
import { cli, fileBroker, startCli } from "./run.js";

const acks = (stdout: string) => stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const byLine = (list: { line: number }[]) => [...list].sort((a, b) => a.line - b.line);

const broker = fileBroker(async (driver) => {
  await driver.createTopic("keyed", { partitions: 4, partitionSelector: "key-hash" });
  await driver.createTopic("plain", { partitions: 2 });
  await driver.createTopic("raw", { partitions: 1 });
});

describe("tributary produce TOPIC", () => {
  it("splits stdin into lines across blocks, multi-byte characters and CRLF included", async () => {
    const text = '{"a":"ü€"}\r\n\n{"b":"日本"}\n{"c":1}\n{"last":"no newline ✓"}';
    const bytes = Buffer.from(text);
    for (const size of [1, 2, 3, 5, 7, 64]) {
      const blocks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
      const got: string[] = [];
      for await (const batch of lines(blocks)) got.push(...batch);
      expect(got, `blocks of ${size}`).toEqual(['{"a":"ü€"}', "", '{"b":"日本"}', '{"c":1}', '{"last":"no newline ✓"}']);
    }
  });


  it("acks every line; keys pick partitions as key-hash does; base64 data leaves the metadata; a bad line fails alone with exit 1", async () => {
    const input = [
      JSON.stringify({ sensor: "s-1", v: 1 }),
      JSON.stringify({ sensor: "s-2", v: 2, payload: Buffer.from([1, 2, 3]).toString("base64") }),
      "{not json",
      "",
      JSON.stringify({ sensor: "s-1", v: 3 }),
      JSON.stringify({ sensor: ["no"], v: 4 }),
      JSON.stringify({ sensor: "s-3", v: 5, payload: 17 }),
    ].join("\n");
    const r = await cli(["produce", "keyed", "--key-field", "sensor", "--data-field", "payload", "--threads", "2"], { env: broker.env, input });
    expect(r.code).toBe(1);
    const partitionOf = (key: string) => fnv1a32(key) % 4;
    expect(byLine(acks(r.stdout))).toEqual([
      { line: 1, partition: partitionOf("s-1"), id: expect.any(Number) },
      { line: 2, partition: partitionOf("s-2"), id: expect.any(Number) },
      { line: 3, error: expect.stringMatching(/^metadata is not valid JSON: /), code: "VALIDATION" },
      { line: 5, partition: partitionOf("s-1"), id: expect.any(Number) },
      { line: 6, error: "key field 'sensor' must be a string or number, not an object or array", code: "VALIDATION" },
      { line: 7, error: "data field 'payload' must be a base64 string", code: "VALIDATION" },
    ]);
    expect(r.stderr).toContain("produced to 'keyed': 3 of 6 lines acknowledged, 3 failed");
    expect(r.stderr).toContain("tributary: 3 lines failed (first: line 3: metadata is not valid JSON");

    const stored = await readPartition(broker.url, "keyed", partitionOf("s-2"));
    const s2 = stored.find((e) => e.metadata.sensor === "s-2")!;
    expect(s2.metadata).toEqual({ sensor: "s-2", v: 2 });
    expect([...s2.data]).toEqual([1, 2, 3]);
  });

  it("sends everything to --partition N; --acks errors prints only failures; --acks summary one JSON line", async () => {
    const lines = Array.from({ length: 500 }, (_, i) => (i === 250 ? "[oops" : JSON.stringify({ i }))).join("\n") + "\n";
    const [one, errors, summary, good] = await Promise.all([
      cli(["produce", "plain", "--partition", "1", "--threads", "0"], { env: broker.env, input: lines }),
      cli(["produce", "plain", "--acks", "errors"], { env: broker.env, input: lines }),
      cli(["produce", "plain", "--acks", "summary"], { env: broker.env, input: lines }),
      cli(["produce", "plain", "--acks", "summary"], { env: broker.env, input: '{"fine":true}\r\n{"also":1}' }),
    ]);
    const oneAcks = acks(one.stdout);
    expect(oneAcks).toHaveLength(500);
    expect(new Set(oneAcks.filter((a) => !a.error).map((a) => a.partition))).toEqual(new Set([1]));
    // The pipeline parsed line 251 on its way (no key or data field: lines go to it as text).
    expect(oneAcks.find((a) => a.line === 251)).toEqual({ line: 251, error: expect.stringMatching(/^metadata is not valid JSON/), code: "VALIDATION" });
    expect(one.code).toBe(1);
    expect(acks(errors.stdout)).toEqual([{ line: 251, error: expect.any(String), code: "VALIDATION" }]);
    expect(JSON.parse(summary.stdout)).toEqual({
      topic: "plain", lines: 500, events: 500, acknowledged: 499, failed: 1, seconds: expect.any(Number), eventsPerSecond: expect.any(Number), cpuMicrosPerEvent: expect.any(Number),
      errors: [{ line: 251, error: expect.stringMatching(/not valid JSON/) }],
    });
    expect(summary.code).toBe(1);
    // A line the pipeline refused is one of the lines, not one more.
    expect(summary.stderr).toContain("produced to 'plain': 499 of 500 lines acknowledged, 1 failed");
    // CRLF line ends and a last line without a newline are fine.
    expect(good).toMatchObject({ code: 0, stdout: expect.stringContaining('"acknowledged":2,"failed":0') });
  });

  it("takes each line as a string with --line-mode raw", async () => {
    const r = await cli(["produce", "raw", "--line-mode", "raw", "--threads", "0"], { env: broker.env, input: 'plain text\n{"json":"kept as text"}\n' });
    expect(r.code).toBe(0);
    expect((await readPartition(broker.url, "raw", 0)).map((e) => e.metadata)).toEqual(["plain text", '{"json":"kept as text"}']);
  });

  it("refuses a partition the topic does not have and an unknown topic, naming them", async () => {
    const [partition, topic] = await Promise.all([cli(["produce", "plain", "--partition", "2"], { env: broker.env, input: "{}\n" }), cli(["produce", "nope"], { env: broker.env, input: "{}\n" })]);
    expect(partition).toMatchObject({ code: 1, stderr: "tributary: --partition 2: topic 'plain' has 2 partitions (0..1)\n" });
    expect(topic).toMatchObject({ code: 1, stderr: "tributary: topic 'nope' does not exist\n" });
  });

  it("reads stdin no faster than the producer takes events: with the broker stopped, it stops reading", async () => {
    const dir = tempDir();
    const { child: brokerProcess, url } = await spawnBroker(dir);
    try {
      const d = await Driver.connect(url);
      await d.createTopic("slow", { partitions: 1 });
      await d.close();
      const run = startCli(["produce", "slow", "--acks", "summary", "--threads", "0"], { env: { TRIBUTARY_BROKER: url } });
      const stdin = run.child.stdin!;
      // Let the producer start before the broker stops answering.
      stdin.write('{"warm":true}\n');
      await new Promise((r) => setTimeout(r, 1000));
      brokerProcess.kill("SIGSTOP");
      const total = 300_000;
      const line = (i: number) => `{"i":${i},"pad":"${"x".repeat(60)}"}\n`;
      let written = 0;
      let stalledAt = -1;
      // Write as fast as the pipe takes it; note where it stops taking more.
      const writer = (async () => {
        while (written < total) {
          let block = "";
          for (let k = 0; k < 1000 && written < total; k++) block += line(written++);
          if (!stdin.write(block)) await new Promise((r) => stdin.once("drain", r));
        }
        stdin.end();
      })();
      let last = -1;
      for (let quiet = 0; quiet < 8; ) {
        await new Promise((r) => setTimeout(r, 250));
        quiet = written === last ? quiet + 1 : 0;
        last = written;
        if (written >= total) break;
      }
      stalledAt = written;
      brokerProcess.kill("SIGCONT");
      await writer;
      const r = await run.finished;
      // The producer holds at most its pending limit (65,536 events) plus what the pipes buffer.
      expect(stalledAt).toBeLessThan(100_000);
      expect(stalledAt).toBeGreaterThan(30_000);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ events: total + 1, acknowledged: total + 1, failed: 0 });
    } finally {
      brokerProcess.kill("SIGCONT");
      brokerProcess.kill("SIGKILL");
      removeDir(dir);
    }
  });
});
