import { connectDriver, loadAppender, encodeRecords } from "./dist/src/internal.js";
const url = process.argv[2]; const replicas = Number(process.argv[3] ?? 1); const N = Number(process.argv[4] ?? 200000); const B = Number(process.argv[5] ?? 1000); const W = Number(process.argv[6] ?? 2);
const log = await connectDriver(url);
const name = "raw" + Date.now();
const desc = await log.createTopic(name, { partitions: 4, replicas, pipeline: { validator: { module: "default" }, partitionSelector: { module: "round-robin" }, serializer: { module: "json" } } });
const a = await loadAppender(log.appender(desc, "raw-" + Date.now()));
await a.connect();
const enc = new TextEncoder();
const blob = encodeRecords(Array.from({ length: B }, (_, i) => ({ metadata: enc.encode(JSON.stringify({ sensor: "s-" + i, energy: i, ts: 1790000000000 + i, tags: ["a", "b"] })) })));
const t0 = performance.now();
const seqs = [0, 0, 0, 0]; let sent = 0; const inflight = new Set();
const cpu0 = process.cpuUsage();
while (sent < N) {
  for (let p = 0; p < 4 && sent < N; p++) {
    const pr = a.send({ partition: p, seq: seqs[p]++, count: B, records: blob }); inflight.add(pr); pr.finally(() => inflight.delete(pr)); sent += B;
  }
  while (inflight.size >= 4 * W) await Promise.race(inflight);
}
await Promise.all(inflight);
const dt = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
console.log("msgs/s", Math.round(N / dt * 1000), "client cpu us/msg", ((cpu.user + cpu.system) / N).toFixed(2), "record bytes", blob.length / B);
await a.close(); await log.deleteTopic(name); await log.close();
