import { Driver, Ordering } from "./dist/src/index.js";
const url = process.argv[2]; const replicas = Number(process.argv[3] ?? 1); const N = Number(process.argv[4] ?? 100000);
const driver = await Driver.connect(url);
const name = "e2e" + Date.now();
await driver.createTopic(name, { partitions: 4, replicas });
const topic = await driver.openTopic(name);
const pool = driver.makeThreadPool(2);
const producer = topic.producer({ threadPool: pool, ordering: Ordering.Strict });
const t0 = performance.now();
const futures = [];
for (let i = 0; i < N; i++) { futures.push(producer.push({ i, p: i % 4 }, undefined, { partition: i % 4 })); if (!producer.hasCapacity) await producer.ready(); }
await producer.flush();
const dt = performance.now() - t0;
console.log("events/s", Math.round(N / dt * 1000), "failed", futures.filter(f => f.error).length, JSON.stringify((await producer.stats()).transport));
await producer.close();
const desc = await driver.describeTopic(name);
console.log(desc.replicas, desc.partitionInfo);
const consumer = topic.consumer({ name: "c", start: "earliest" });
const last = [-1, -1, -1, -1]; let n = 0, bad = 0;
for await (const ev of consumer) { const md = ev.metadata; if (md.i <= last[ev.partition]) bad++; last[ev.partition] = md.i; if (++n === N) break; }
console.log("read", n, "bad order", bad);
await driver.deleteTopic(name);
await driver.close();
