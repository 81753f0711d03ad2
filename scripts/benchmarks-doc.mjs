#!/usr/bin/env node
// Refreshes docs/BENCHMARKS.md after a full run (`npm run bench -- --out docs/bench`): the
// generated docs/bench/summary.md replaces everything below the results marker, with its
// chart links made relative to docs/. The hand-written part above the marker stays; update
// its numbers when they move.
import fs from "node:fs";

const DOC = new URL("../docs/BENCHMARKS.md", import.meta.url);
const SUMMARY = new URL("../docs/bench/summary.md", import.meta.url);
const MARKER = "<!-- generated results below: node scripts/benchmarks-doc.mjs -->";

const doc = fs.readFileSync(DOC, "utf8");
const at = doc.indexOf(MARKER);
if (at < 0) throw new Error(`docs/BENCHMARKS.md has no line ${MARKER}`);
const summary = fs
  .readFileSync(SUMMARY, "utf8")
  .replace(/^# .*\n/, "")
  .replace(/^### /gm, "#### ")
  .replace(/^## /gm, "### ")
  .replace(/\]\((?!https?:|bench\/)([^)]+\.svg)\)/g, "](bench/$1)");
fs.writeFileSync(DOC, `${doc.slice(0, at + MARKER.length)}\n\n## Full results\n${summary}`);
fs.rmSync(SUMMARY);
console.log("docs/BENCHMARKS.md refreshed from docs/bench/summary.md");
