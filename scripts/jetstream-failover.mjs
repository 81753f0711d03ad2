#!/usr/bin/env node
// Failover runs of the JetStream driver, for numbers rather than a pass/fail: each run
// starts a fresh 3-node cluster (nats-server on free loopback ports), produces 30,000
// events into a 2-partition R3 topic, SIGKILLs the stream leader of partition 0 after
// 8,000, then reads every partition back and counts lost, duplicated and out-of-order
// events. Needs `npm run build` first.  Usage: node scripts/jetstream-failover.mjs [RUNS]
import { Driver } from "../dist/src/index.js";
import { connectDriver, iterateRecords } from "../dist/src/internal.js";
import { startNatsCluster } from "../dist/bench/lib/nats-server.js";
import { connect } from "nats";
const runs = Number(process.argv[2] ?? 5), total = 30000;
for (let r = 1; r <= runs; r++) {
  const cluster = await startNatsCluster();
  const driver = await Driver.connect(cluster.url);
  await driver.createTopic("fo", { partitions: 2, replicas: 3 });
  const topic = await driver.openTopic("fo");
  const nc = await connect({ servers: cluster.nodes.map((n) => n.address) });
  const info = await (await nc.jetstreamManager()).streams.info("TRIB_fo_0"); await nc.close();
  const victim = cluster.nodes.find((n) => n.name === info.cluster.leader);
  const producer = topic.producer({ name: "fo", maxNumBatches: 4 });
  const futures = []; let killAt = 0;
  const t0 = Date.now();
  for (let i = 0; i < total; i++) {
    futures.push(producer.push({ i }, undefined, { partition: i % 2 }));
    if (i === 8000) { await futures[0]; killAt = Date.now(); void victim.kill(); }
    if (!producer.hasCapacity) await producer.ready();
    if (i % 500 === 0) await new Promise((res) => setTimeout(res, 2));
  }
  await producer.flush();
  const stats = (await producer.stats()).transport;
  await producer.close();
  const done = Date.now();
  const failed = futures.filter((f) => f.error).length;
  const log = await connectDriver(cluster.url);
  let lost = 0, dup = 0, ooo = 0, stored = 0;
  for (const p of [0, 1]) {
    const seen = new Map(); let last = -1;
    for await (const b of log.read({ topic: "fo", partition: p, start: "earliest", follow: false })) {
      let k = 0;
      for (const rec of iterateRecords(b.records, b.count)) {
        const i = JSON.parse(Buffer.from(rec.metadata).toString()).i; const id = b.firstEventId + k++;
        if (seen.has(i)) dup++; seen.set(i, id); if (i < last) ooo++; last = i; stored++;
      }
    }
    futures.forEach((f, i) => { if (i % 2 === p && !f.error && seen.get(i) !== f.id) lost++; });
  }
  await log.close(); await driver.close(); await cluster.stop();
  console.log(`run ${r}: killed leader ${victim.name}; acked ${total - failed}/${total}, failed ${failed}, stored ${stored}, lost ${lost}, duplicated ${dup}, out of order ${ooo}; production ended ${((done - killAt) / 1000).toFixed(1)} s after the kill; delivery reconnects ${stats.reconnects}, batches re-sent ${stats.batchesResent}, answered as duplicates ${stats.duplicatesAcked}`);
}
