#!/usr/bin/env node
/**
 * One measurement of issue 14's goals against the build in `--lib DIR` (its dist/), in a
 * process of its own; prints one JSON line. `scripts/compare-goals.mjs` runs it on two
 * commits alternately. Only API both commits have is used; the raw baselines (a bare
 * serialization loop, raw Piscina) come from this checkout and are measured in the same
 * process, so every ratio is side by side.
 *
 *   node scripts/goal-probe.mjs --lib DIR --case floor|pool10|pool50|many
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Piscina } from "piscina";

const { values } = parseArgs({ options: { lib: { type: "string" }, case: { type: "string" } } });
const here = path.resolve(import.meta.dirname, "..");
const lib = path.resolve(values.lib ?? here);
const { Driver } = await import(path.join(lib, "dist/src/index.js"));
const { COST_VALIDATOR } = await import(path.join(lib, "dist/bench/plugins/cost-validator.js"));
const { smallEvent } = await import(path.join(here, "dist/bench/lib/produce-run.js"));
const { cpuSeconds } = await import(path.join(here, "dist/bench/lib/thread-cpu.js"));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tributary-goal-"));
const driver = await Driver.embedded({ dir, fsync: "interval" });
let topics = 0;

/** Pushes `events` events through one producer; every future awaited, a window at a time. */
async function produce(pool, events, costUs, { awaited = true, topicCount = 1 } = {}) {
  const producers = [];
  for (let k = 0; k < topicCount; k++) {
    const name = `goal-${topics++}`;
    await driver.createTopic(name, { partitions: 4, validator: costUs > 0 ? COST_VALIDATOR : undefined });
    producers.push((await driver.openTopic(name)).producer({ threadPool: pool }));
  }
  await Promise.all(producers.map((p) => p.ready()));
  const per = Math.floor(events / topicCount);
  const cpu0 = cpuSeconds();
  const start = performance.now();
  let threads = 0;
  await Promise.all(
    producers.map(async (p, k) => {
      let window = [];
      for (let i = 0; i < per; i++) {
        const f = p.push(smallEvent(i, costUs));
        if (awaited) {
          window.push(f);
          if (window.length === 20_000) {
            await Promise.all(window);
            window = [];
          }
        } else if (!p.hasCapacity) await p.ready();
        if (k === 0 && i === per >> 1) threads = fs.readdirSync("/proc/self/task").length;
      }
      await Promise.all(window);
      await p.flush();
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const cpu1 = cpuSeconds();
  for (const p of producers) await p.close();
  return { eventsPerSec: (per * topicCount) / seconds, mainCpuUsPerEvent: ((cpu1.main - cpu0.main) * 1e6) / (per * topicCount), threads };
}

function bareLoop(events) {
  const encoder = new TextEncoder();
  const start = performance.now();
  let bytes = 0;
  for (let i = 0; i < events; i++) bytes += encoder.encode(JSON.stringify(smallEvent(i))).length;
  if (bytes === 0) throw new Error("nothing serialized");
  return events / ((performance.now() - start) / 1000);
}

async function rawPiscina(costUs, events) {
  const piscina = new Piscina({ filename: path.join(here, "dist/bench/lib/raw-piscina-worker.js"), minThreads: 2, maxThreads: 2, idleTimeout: Infinity });
  const run = async (n) => {
    const inFlight = new Set();
    const start = performance.now();
    for (let from = 0; from < n; from += 1024) {
      const chunk = Array.from({ length: Math.min(1024, n - from) }, (_, j) => smallEvent(from + j, costUs));
      const task = piscina.run(chunk).then(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= 8) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return n / ((performance.now() - start) / 1000);
  };
  await run(Math.round(events / 10)); // warm-up
  const eps = await run(events);
  await piscina.destroy();
  return eps;
}

const out = {};
try {
  switch (values.case) {
    case "floor": {
      const events = 400_000;
      bareLoop(events / 4);
      out.bareLoop = bareLoop(events);
      const auto = driver.makeThreadPool("auto");
      await produce(auto, 50_000, 0); // warm-up, and auto's probes
      const r = await produce(auto, events, 0);
      out.awaitedAuto = r.eventsPerSec;
      out.awaitedMainUs = r.mainCpuUsPerEvent;
      out.awaitedOverBare = r.eventsPerSec / out.bareLoop;
      const pool = driver.makeThreadPool(2);
      await produce(pool, 50_000, 0);
      const p = await produce(pool, events, 0, { awaited: false });
      out.pool2FlushMainUs = p.mainCpuUsPerEvent;
      out.pool2Flush = p.eventsPerSec;
      break;
    }
    case "pool10":
    case "pool50": {
      const costUs = values.case === "pool10" ? 10 : 50;
      const events = Math.round(4_000_000 / costUs);
      out.rawPiscina2 = await rawPiscina(costUs, events);
      const inline = driver.makeThreadPool(0);
      await produce(inline, events / 10, costUs);
      out.inline = (await produce(inline, events, costUs)).eventsPerSec;
      const pool = driver.makeThreadPool(2);
      await produce(pool, events / 10, costUs);
      out.pool2 = (await produce(pool, events, costUs)).eventsPerSec;
      out.pool2OverInline = out.pool2 / out.inline;
      out.pool2OverRaw = out.pool2 / out.rawPiscina2;
      break;
    }
    case "many": {
      const inline = driver.makeThreadPool(0);
      await produce(inline, 100_000, 0, { awaited: false });
      const one = await produce(inline, 800_000, 0, { awaited: false });
      const sixteen = await produce(inline, 800_000, 0, { awaited: false, topicCount: 16 });
      out.one = one.eventsPerSec;
      out.sixteen = sixteen.eventsPerSec;
      out.sixteenOverOne = sixteen.eventsPerSec / one.eventsPerSec;
      out.threadsWith16 = sixteen.threads;
      out.threadsWith1 = one.threads;
      break;
    }
    default:
      throw new Error(`unknown --case ${values.case}`);
  }
} finally {
  await driver.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
