import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

const run = promisify(execFile);
const example = (file: string, ...args: string[]) => run(process.execPath, [path.join(ROOT, "dist/examples", file), ...args], { timeout: 60_000 });

describe("examples", () => {
  it("energy: validator, energy-bin selector and one-byte serializer end to end", async () => {
    const { stdout } = await example("energy/run.js");
    expect(stdout).toContain("pushed 1000 events: 910 stored, 90 rejected");
    expect(stdout).toMatch(/first rejection: event #100 rejected by the validator: energy must be an integer in \[0, 100\), got 100/);
    expect(stdout).toMatch(/partition 3: 225 events, energies 75\.\.99/);
  });

  it("bulk publish: one ack per event through pushMany", async () => {
    const { stdout } = await example("bulk-publish.js", "20000");
    expect(stdout).toMatch(/20000 events acknowledged .* 0 failed/);
    const counts = /per partition: (.*)/.exec(stdout)![1]!.split(", ").map(Number);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(20000);
  });
});
