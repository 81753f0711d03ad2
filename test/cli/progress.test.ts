// The one progress implementation (src/cli/progress.ts, cli-progress underneath) on a
// simulated terminal: the line fits the width and is redrawn in place, lines logged
// meanwhile stay above it; off a terminal, one line per 10%. The bench runner draws
// through the same StatusLine.
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { Progress } from "../../dist/src/cli/progress.js";
import { BenchProgress } from "../../dist/bench/lib/progress.js";
import { FakeTerminal } from "./terminal.js";

/** Updates over ~`ms` so that the status line redraws several times (10 per second). */
async function run(progress: { update(n: number): void }, total: number, ms = 450): Promise<void> {
  const steps = 15;
  for (let i = 1; i <= steps; i++) {
    progress.update(Math.round((total * i) / (steps + 1)));
    await sleep(ms / steps);
  }
}

class Log extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe("progress", () => {
  it("stays one line, as wide as the terminal at most, redrawn in place (80 columns, then resized to 44)", async () => {
    const term = new FakeTerminal(80);
    const stream = term as unknown as NodeJS.WriteStream;
    const progress = new Progress("produce", 1_000_000, { stream });
    await run(progress, 1_000_000);
    // Several redraws happened, all on the same row.
    expect(term.raw.match(/%/g)!.length).toBeGreaterThanOrEqual(3);
    expect(term.lines).toHaveLength(1);
    expect(term.lines[0]!.length).toBeLessThan(80);
    expect(term.lines[0]).toMatch(/^produce \[#+-*\] +\d+% [\d,]+\/1,000,000 events, [\d,]+\/s$/);
    expect(term.wrap).toBe(false); // the terminal does not wrap while the bar shows

    term.columns = 44;
    await run(progress, 1_000_000, 250);
    expect(term.lines).toHaveLength(1);
    expect(term.lines[0]!.length).toBeLessThan(44);

    // A logged line longer than the terminal wraps like any output; the bar stays below it.
    const long = `a message ${"x".repeat(60)} end`;
    progress.log(long);
    expect(term.lines).toEqual([long.slice(0, 44), long.slice(44), expect.stringMatching(/^produce /)]);
    progress.done();
    expect(term.lines).toEqual([long.slice(0, 44), long.slice(44), expect.stringMatching(/^produce .*100% 1,000,000\/1,000,000 events/)]);
    expect(term.lines[2]!.length).toBeLessThan(44);
    expect(term.wrap).toBe(true);
    expect(term.col).toBe(0); // the next output starts on a line of its own
  });

  it("shows count and rate when the total is unknown", async () => {
    const term = new FakeTerminal(60);
    const progress = new Progress("produce", undefined, { stream: term as unknown as NodeJS.WriteStream });
    await run(progress, 5000, 300);
    expect(term.lines).toHaveLength(1);
    expect(term.lines[0]).toMatch(/^produce [\d,]+ events, [\d,]+\/s, 0:0\d$/);
    progress.done(5000);
    expect(term.lines).toEqual([expect.stringMatching(/^produce 5,000 events/)]);
  });

  it("writes one line per 10% when stderr is not a terminal", () => {
    const log = new Log();
    const progress = new Progress("verify ", 1000, { stream: log as unknown as NodeJS.WriteStream });
    for (let i = 0; i <= 1000; i += 7) progress.update(i);
    progress.done();
    const lines = log.text.trimEnd().split("\n");
    expect(lines).toHaveLength(10);
    // 7 at a time: the line comes at the first update past each tenth.
    expect(lines.map((l) => Math.floor(Number(/(\d+)%/.exec(l)![1]) / 10))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(log.text).not.toMatch(/\r|\x1b/);
  });

  it("draws the benchmark runner's line with the same status line, results logged above it", async () => {
    const term = new FakeTerminal(70);
    const bench = new BenchProgress(term as unknown as NodeJS.WriteStream);
    const position = { scenario: "selftest", caseIndex: 0, caseCount: 2, run: 1, runs: 5, stepsDone: 1, stepsTotal: 12 };
    for (let i = 0; i < 8; i++) {
      bench.update({ ...position, inner: { done: i, total: 8 } });
      await sleep(40);
    }
    bench.log("  ok   case 1/2 n=1  events/s 1,234");
    await sleep(120);
    expect(term.lines).toEqual(["  ok   case 1/2 n=1  events/s 1,234", expect.stringMatching(/^selftest case 1\/2 run 1\/5 \[#*-*\] \d+% \| all /)]);
    expect(term.lines[1]!.length).toBeLessThan(70);
    bench.end();
    expect(term.lines).toEqual(["  ok   case 1/2 n=1  events/s 1,234"]);
  });
});
