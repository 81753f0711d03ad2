// `tributary demo` (the showcase, also `npm start`): auto thread placement by default,
// $TRIBUTARY_BROKER / --broker like the other client commands, and Ctrl-C removes the
// temporary data directory of its embedded broker.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { removeDir, ROOT, tempDir } from "../helpers.js";
import { cli, fileBroker, startCli, waitFor } from "./run.js";

const broker = fileBroker();

describe("tributary demo", () => {
  it("is what npm start runs", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.scripts.start).toMatch(/node dist\/src\/cli\.js demo$/);
  });

  it("produces to the broker of $TRIBUTARY_BROKER (or --broker) with auto placement by default, and verifies", async () => {
    const [viaEnv, viaFlag] = await Promise.all([
      cli(["demo", "--events", "3000", "--partitions", "2"], { env: { TRIBUTARY_BROKER: broker.url } }),
      cli(["demo", "--events", "2000", "--threads", "0", "--broker", broker.url], { env: { TRIBUTARY_BROKER: "tributary://127.0.0.1:1" } }),
    ]);
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stdout).toContain(`(2 partitions) on ${broker.url}: auto placement`);
    expect(viaEnv.stdout).toContain("verified: 3,000 events");
    expect(viaEnv.stdout).not.toContain("embedded broker");
    expect(viaFlag.code).toBe(0);
    expect(viaFlag.stdout).toContain(`on ${broker.url}: inline`);
    const showcases = (await broker.driver.listTopics()).filter((t) => t.name.startsWith("showcase-"));
    expect(showcases.map((t) => t.partitionInfo.reduce((n, p) => n + p.nextOffset, 0)).sort()).toEqual([2000, 3000]);
  });

  it("stops on Ctrl-C once progress began, removes its temporary data directory, and exits with 130", async () => {
    const tmp = tempDir("tributary-demo-tmp-");
    try {
      const run = startCli(["demo", "--events", "2000000"], { env: { TMPDIR: tmp }, timeoutMs: 90_000 });
      const dataDir = (await waitFor(run.stdout, /temporary directory (\S+) /))[1]!;
      expect(dataDir.startsWith(tmp)).toBe(true);
      expect(fs.existsSync(dataDir)).toBe(true);
      // Off a terminal the bar writes a line per 10%: wait for the first.
      await waitFor(run.stderr, /produce \[#+-*\] +\d+%/, 40_000);
      run.child.kill("SIGINT");
      const r = await run.finished;
      expect(r.code).toBe(130);
      expect(r.stderr).toContain(`tributary: demo interrupted (SIGINT); removed ${dataDir}`);
      expect(fs.existsSync(dataDir)).toBe(false);
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      removeDir(tmp);
    }
  });
});
