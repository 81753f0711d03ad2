import { connect, headers } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
const [servers, replicas, mode, N] = [process.argv[2].split(","), Number(process.argv[3]), process.argv[4], Number(process.argv[5] ?? 100000)];
const nc = await connect({ servers });
const jsm = await jetstreamManager(nc);
const name = "H" + Date.now();
await jsm.streams.add({ name, subjects: [name], num_replicas: replicas, duplicate_window: 120e9 });
const payload = new Uint8Array(130);
const te = new TextEncoder();
const tag = "abcdefghijklmnopqrstuv";
const t0 = performance.now();
let prev = "";
for (let i = 0; i < N; i++) {
  const id = `${tag}:0:${i >> 10}:${i & 1023}`;
  let h;
  if (mode === "id") { const b = te.encode(`NATS/1.0\r\nNats-Msg-Id: ${id}\r\n\r\n`); h = { encode: () => b }; }
  else if (mode === "chain") { const b = te.encode(`NATS/1.0\r\nNats-Msg-Id: ${id}\r\n${i ? `Nats-Expected-Last-Msg-Id: ${prev}` : "Nats-Expected-Last-Sequence: 0"}\r\n\r\n`); h = { encode: () => b }; }
  prev = id;
  if ((i & 1023) === 1023 || i === N - 1) await nc.request(name, payload, h ? { headers: h, timeout: 20000 } : { timeout: 20000 });
  else nc.publish(name, payload, h ? { headers: h } : undefined);
}
const dt = performance.now() - t0;
const info = await jsm.streams.info(name);
console.log(mode, "R" + replicas, "msgs/s", Math.round(N / dt * 1000), "stored", info.state.messages);
await jsm.streams.delete(name); await nc.close();
