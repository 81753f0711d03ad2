import { Driver } from "./dist/src/index.js";
import { produceRun } from "./dist/bench/lib/produce-run.js";
import { SHOWCASE_SCHEMA, showcaseEvent } from "./dist/src/cli/produce.js";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { fnv1a32 } from "./dist/src/pipeline/builtins/key-hash-selector.js";
import { SchemaCostValidator } from "./dist/bench/plugins/schema-cost-validator.js";
const [url, replicas, events, which, threads] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5], process.argv[6] ?? "0"];
const driver = await Driver.connect(url);
const makeEvent = (i) => showcaseEvent(i, 1_790_000_000_000);
if (which === "trib") {
  const pool = driver.makeThreadPool(threads === "auto" ? "auto" : Number(threads));
  const r = await produceRun({ driver, topic: { partitions: 4, replicas, validator: { module: "json-schema", config: { schema: SHOWCASE_SCHEMA } }, partitionSelector: "key-hash" }, pool, events, makeEvent, makeKey: (i) => `sensor-${String(i % 997).padStart(3, "0")}`, maxNumBatches: Number(process.argv[7] ?? 2) });
  console.log("tributary", Math.round(r.eventsPerSec), "batch", Math.round(r.meanBatchEvents), r.p50Ms);
  await pool.close();
} else {
  const name = "nj" + Date.now();
  await driver.createTopic(name, { partitions: 4, replicas });
  const nc = await connect({ servers: url.replace("nats://", "").split(",") });
  const js = jetstream(nc);
  const v = new SchemaCostValidator({ schema: SHOWCASE_SCHEMA, costUs: 0 });
  const enc = new TextEncoder(); const inFlight = new Set();
  const t0 = performance.now();
  for (let i = 0; i < events; i++) { const md = makeEvent(i); v.validate(md); const p = js.publish(`tributary.${name}.${fnv1a32(md.sensor) % 4}`, enc.encode(JSON.stringify(md))); inFlight.add(p); p.finally(() => inFlight.delete(p)); if (inFlight.size >= 256) await Promise.race(inFlight); }
  await Promise.all(inFlight);
  console.log("nats.js", Math.round(events / (performance.now() - t0) * 1000));
  await nc.close(); await driver.deleteTopic(name);
}
await driver.close();
