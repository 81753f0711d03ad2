import { connectDriver, encodeRecords } from "./dist/src/internal.js";
import { Driver } from "./dist/src/index.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { execSync } from "node:child_process";
const url = "nats://127.0.0.1:15221,127.0.0.1:15222,127.0.0.1:15223";
const driver = await Driver.connect(url);
const name = "rd" + Date.now();
await driver.createTopic(name, { partitions: 1, replicas: 3 });
const topic = await driver.openTopic(name);
const log = await connectDriver(url);
let got = 0; let lastAt = Date.now();
const reader = log.read({ topic: name, partition: 0, start: "earliest", follow: true });
(async () => { for await (const b of reader) { got += b.count; lastAt = Date.now(); } console.log("reader ended"); })().catch(e => console.log("reader error", e.message));
const nc = await connect({ servers: url.replace("nats://", "").split(",") });
const info = await (await jetstreamManager(nc)).streams.info(`TRIB_${name}_0`);
console.log("leader", info.cluster.leader);
const producer = topic.producer({ name: "p" });
const t0 = Date.now();
for (let i = 0; i < 20000; i++) {
  producer.push({ i });
  if (i === 6000) { const n = info.cluster.leader.slice(1); const pid = execSync(`cat /tmp/jsx/c/n${n}.pid`).toString().trim(); process.kill(Number(pid), "SIGKILL"); console.log("killed", info.cluster.leader, "at", Date.now() - t0); }
  if (!producer.hasCapacity) await producer.ready();
  if (i % 500 === 0) await new Promise(r => setTimeout(r, 2));
}
await producer.close();
console.log("produced at", Date.now() - t0);
for (let k = 0; k < 40 && got < 20000; k++) { await new Promise(r => setTimeout(r, 1000)); console.log("t", Date.now() - t0, "got", got, "since last batch", Date.now() - lastAt); }
reader.cancel(); await nc.close(); await log.close(); await driver.close();
console.log(info.cluster.leader.slice(1));
