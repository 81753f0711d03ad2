#!/usr/bin/env node
/**
 * How per-event work scales on raw Piscina (2 threads) against one thread, for pure
 * JavaScript and for node:crypto hashing, side by side in one process: the finding behind
 * "measure parallel efficiency with pure-JS work" in docs/BENCHMARKS.md. No tributary
 * involved. Prints the median events/s of each over `--rounds` alternating rounds.
 *
 *   node scripts/crypto-scaling.mjs [--rounds 5] [--events 200000]
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { isMainThread } from "node:worker_threads";
import { Piscina } from "piscina";


/** The per-event work: `kind` "js" spins a pure-JS hash, "crypto" hashes with node:crypto. */
function work(kind, i) {
  const text = `{"seq":${i},"sensor":"sensor-${i % 997}","energy":${(i * 7919) % 1000},"unit":"kWh","site":"north-ridge"}`;
  if (kind === "crypto") {
    let h = text;
    for (let k = 0; k < 8; k++) h = createHash("sha256").update(h).digest("hex");
    return h.length;
  }
  let h = 2166136261;
  for (let k = 0; k < 40; k++) for (let j = 0; j < text.length; j++) h = Math.imul(h ^ text.charCodeAt(j), 16777619);
  return h & 1;
}

/** Piscina task: one chunk of events. */
export default function chunk({ kind, from, n }) {
  let x = 0;
  for (let i = from; i < from + n; i++) x += work(kind, i);
  return x;
}

if (isMainThread) {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" }, events: { type: "string", default: "200000" } } });
  const events = Number(values.events);
  const rounds = Number(values.rounds);
  const piscina = new Piscina({ filename: new URL(import.meta.url).href, minThreads: 2, maxThreads: 2, idleTimeout: Infinity });
  const inline = (kind) => {
    const t0 = performance.now();
    chunk({ kind, from: 0, n: events });
    return events / ((performance.now() - t0) / 1000);
  };
  const pooled = async (kind) => {
    const t0 = performance.now();
    const tasks = [];
    for (let from = 0; from < events; from += 1024) tasks.push(piscina.run({ kind, from, n: Math.min(1024, events - from) }));
    await Promise.all(tasks);
    return events / ((performance.now() - t0) / 1000);
  };
  const samples = { js: { inline: [], pool: [] }, crypto: { inline: [], pool: [] } };
  for (const kind of ["js", "crypto"]) {
    inline(kind);
    await pooled(kind); // warm-up
  }
  for (let r = 0; r < rounds; r++) {
    for (const kind of ["js", "crypto"]) {
      samples[kind].inline.push(inline(kind));
      samples[kind].pool.push(await pooled(kind));
    }
  }
  await piscina.destroy();
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  console.log(`per-event work, ${events.toLocaleString("en-US")} events, median of ${rounds} rounds`);
  console.log("| work | one thread, events/s | raw Piscina 2 threads, events/s | scaling |");
  console.log("|---|---:|---:|---:|");
  for (const kind of ["js", "crypto"]) {
    const a = median(samples[kind].inline);
    const b = median(samples[kind].pool);
    const label = kind === "js" ? "pure JavaScript (FNV-1a, 40 passes)" : "node:crypto (8 × sha256)";
    console.log(`| ${label} | ${Math.round(a).toLocaleString("en-US")} | ${Math.round(b).toLocaleString("en-US")} | ${(b / a).toFixed(2)}x |`);
  }
}
