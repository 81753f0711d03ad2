#!/usr/bin/env node
/**
 * Before and after for issue 14's goals, side by side: builds `--base` in a temporary
 * worktree, then runs `scripts/goal-probe.mjs` against the base build and this checkout
 * alternately, each case in a fresh process, `--rounds` times. Prints the median of every
 * metric on both sides. The embedded broker runs with fsync `interval` on both sides.
 *
 *   npm run build && node scripts/compare-goals.mjs --base <rev> [--rounds 5] [--cases floor,pool10,pool50,many]
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { buildBase, median, parseCommandLine, root, sidesOf } from "./lib/compare.mjs";

const USAGE = "usage: node scripts/compare-goals.mjs --base REV [--rounds N] [--cases floor,pool10,pool50,many]";
const values = parseCommandLine(USAGE, { cases: { type: "string", default: "floor,pool10,pool50,many" } });
const rounds = values.rounds;
const cases = values.cases.split(",");
const base = buildBase(values.base);

try {
  /** "case metric" → side → values */
  const samples = new Map();
  for (let round = 1; round <= rounds; round++) {
    for (const c of cases) {
      for (const [side, dir] of sidesOf(round, base.dir)) {
        const r = spawnSync(process.execPath, [path.join(root, "scripts/goal-probe.mjs"), "--lib", dir, "--case", c], { cwd: dir, encoding: "utf8" });
        if (r.status !== 0) throw new Error(`${side} ${c} failed (${r.status}): ${r.stderr.slice(-2000)}`);
        const metrics = JSON.parse(r.stdout.trim().split("\n").at(-1));
        for (const [k, v] of Object.entries(metrics)) {
          const key = `${c} ${k}`;
          if (!samples.has(key)) samples.set(key, { base: [], new: [] });
          samples.get(key)[side].push(v);
        }
        process.stderr.write(`round ${round}/${rounds} ${c} ${side}: ${r.stdout.trim()}\n`);
      }
    }
  }
  const fmt = (x) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(2));
  console.log(`issue 14 goals: median of ${rounds} alternating rounds, base ${base.rev} vs this checkout`);
  console.log(`| case | metric | base | new |`);
  console.log(`|---|---|---:|---:|`);
  for (const [key, s] of samples) {
    const [c, k] = key.split(" ");
    console.log(`| ${c} | ${k} | ${fmt(median(s.base))} | ${fmt(median(s.new))} |`);
  }
} finally {
  base.remove();
}
