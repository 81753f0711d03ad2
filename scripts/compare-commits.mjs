#!/usr/bin/env node
/**
 * Same-run comparison of two commits on one benchmark scenario: builds the base commit in
 * a temporary worktree (sharing this checkout's node_modules), then runs the scenario on
 * the base and on this checkout alternately, one measured run each per round, so both
 * see the same machine load. Prints the median of each case's events/s over the rounds
 * and the ratio new/base.
 *
 *   npm run build && node scripts/compare-commits.mjs --base <rev> --scenario ordering [--rounds 5] [--quick]
 *
 * Both sides inherit the environment. To hold the broker's fsync policy equal against a
 * commit from before the default became `always` (917c38b used `interval`), run with
 * TRIBUTARY_BENCH_FSYNC=interval: this checkout's bench reads it, the older one ignores it.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { buildBase, median, parseCommandLine, sidesOf } from "./lib/compare.mjs";

const USAGE = "usage: node scripts/compare-commits.mjs --base REV --scenario NAME [--rounds N] [--quick] [--metric eventsPerSec]";
const values = parseCommandLine(USAGE, {
  scenario: { type: "string", required: true },
  quick: { type: "boolean", default: false },
  metric: { type: "string", default: "eventsPerSec" },
});
const rounds = values.rounds;
const base = buildBase(values.base);
const rev = base.rev;

try {
  /** case key → side → runs */
  const samples = new Map();
  for (let round = 1; round <= rounds; round++) {
    for (const [side, dir] of sidesOf(round, base.dir)) {
      const args = [path.join(dir, "dist/bench/run.js"), "--scenario", values.scenario, "--runs", "1", "--json", ...(values.quick ? ["--quick"] : [])];
      const r = spawnSync(process.execPath, args, { cwd: dir, encoding: "utf8", maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`${side} run failed (${r.status}): ${r.stderr.slice(-2000)}`);
      const doc = JSON.parse(r.stdout);
      for (const sc of doc.scenarios ?? [doc]) {
        for (const c of sc.cases ?? []) {
          const key = Object.entries(c.params).map(([k, v]) => `${k}=${v}`).join(" ");
          const m = c.metrics?.[values.metric];
          const v = typeof m === "number" ? m : m?.median;
          if (typeof v !== "number") continue;
          if (!samples.has(key)) samples.set(key, { base: [], new: [] });
          samples.get(key)[side].push(v);
        }
      }
      process.stderr.write(`round ${round}/${rounds} ${side} done\n`);
    }
  }
  console.log(`${values.scenario}: ${values.metric}, median of ${rounds} alternating rounds, base ${rev} vs this checkout`);
  console.log(`| case | base | new | new/base |`);
  console.log(`|---|---:|---:|---:|`);
  for (const [key, s] of samples) {
    if (s.base.length === 0 || s.new.length === 0) continue;
    const b = median(s.base);
    const n = median(s.new);
    console.log(`| ${key} | ${Math.round(b).toLocaleString("en-US")} | ${Math.round(n).toLocaleString("en-US")} | ${(n / b).toFixed(2)} |`);
  }
} finally {
  base.remove();
}
