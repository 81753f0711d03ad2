/**
 * Real nats-server processes (Debian package nats-server) for the JetStream tests and
 * benchmarks: a single node, or a 3-node cluster on 127.0.0.1 with free ports and temp
 * store dirs. Each node runs detached (its own
 * session), is stopped by its PID only, and is killed on exit if a test forgot it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { connect } from "nats";

export interface NatsNode {
  name: string;
  port: number;
  /** `127.0.0.1:port` */
  address: string;
  running: boolean;
  start(): Promise<void>;
  /** SIGKILL: no goodbye to the cluster. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Running nats-server node(s), stopped together. */
export interface NatsCluster {
  /** `nats://…` with every node. */
  url: string;
  nodes: NatsNode[];
  stop(): Promise<void>;
}

const started = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** Free TCP ports on 127.0.0.1 (asked of the kernel, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function node(name: string, port: number, args: string[], dir: string): NatsNode {
  let child: ChildProcess | undefined;
  const log = path.join(dir, `${name}.log`);
  const self: NatsNode = {
    name,
    port,
    address: `127.0.0.1:${port}`,
    running: false,
    async start() {
      child = spawn("nats-server", [...args, "-l", log], { detached: true, stdio: "ignore" });
      started.add(child);
      const c = child;
      c.once("exit", () => {
        self.running = false;
        started.delete(c);
      });
      await new Promise<void>((resolve, reject) => {
        c.once("error", (err) => reject(new Error(`cannot start nats-server (apt-get install nats-server): ${err.message}`)));
        const deadline = Date.now() + 10_000;
        const poll = () => {
          const text = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
          if (text.lastIndexOf("Server is ready") > text.lastIndexOf("Starting nats-server")) return resolve();
          if (c.exitCode !== null) return reject(new Error(`nats-server ${name} exited: ${text.slice(-2000)}`));
          if (Date.now() > deadline) return reject(new Error(`nats-server ${name} not ready within 10 s: ${text.slice(-2000)}`));
          setTimeout(poll, 50);
        };
        poll();
      });
      self.running = true;
    },
    kill: () => signal("SIGKILL"),
    stop: () => signal("SIGTERM"),
  };
  async function signal(sig: NodeJS.Signals): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill(sig);
    await exited;
  }
  return self;
}

/** One node with JetStream; `args` are extra command-line options (e.g. `--auth TOKEN`). */
export async function startNatsServer(args: string[] = []): Promise<NatsCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tributary-nats-"));
  const [port] = await freePorts(1);
  const n = node("n1", port!, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", path.join(dir, "store"), ...args], dir);
  await n.start();
  return {
    url: `nats://${n.address}`,
    nodes: [n],
    async stop() {
      await n.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Three nodes in one JetStream cluster (the README's configuration, on free ports). */
export async function startNatsCluster(): Promise<NatsCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tributary-nats-cluster-"));
  const ports = await freePorts(6);
  const clientPorts = ports.slice(0, 3);
  const routePorts = ports.slice(3);
  const nodes = [0, 1, 2].map((i) => {
    const name = `n${i + 1}`;
    const conf = path.join(dir, `${name}.conf`);
    fs.writeFileSync(
      conf,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${clientPorts[i]}`,
        `jetstream { store_dir: "${path.join(dir, name)}", max_memory_store: 256MB, max_file_store: 4GB }`,
        "cluster {",
        "  name: trib",
        `  listen: 127.0.0.1:${routePorts[i]}`,
        `  routes: [ ${routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(", ")} ]`,
        "}",
        "",
      ].join("\n"),
    );
    return node(name, clientPorts[i]!, ["-c", conf], dir);
  });
  await Promise.all(nodes.map((n) => n.start()));
  await jetStreamReady(nodes.map((n) => n.address));
  await placementReady(nodes.map((n) => n.address), nodes.length);
  return {
    url: `nats://${nodes.map((n) => n.address).join(",")}`,
    nodes,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the cluster's JetStream answers API calls (its meta leader is elected), at most 30 s. */
export async function jetStreamReady(servers: string[], timeoutMs = 30_000): Promise<void> {
  const nc = await connect({ servers });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        // Listing streams needs the meta leader; account info is what a driver asks first.
        const ask = async (subject: string) => JSON.parse(new TextDecoder().decode((await nc.request(subject, undefined, { timeout: 1000 })).data));
        if (!(await ask("$JS.API.STREAM.NAMES")).error && !(await ask("$JS.API.INFO")).error) return;
      } catch {
        // No meta leader yet.
      }
      if (Date.now() > deadline) throw new Error(`JetStream of ${servers.join(",")} not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await nc.close();
  }
}

/**
 * Waits until the cluster can place a stream on `replicas` nodes: right after the meta
 * leader is elected, the other peers may not have reported yet, and a stream of 3
 * replicas is refused with "no suitable peers for placement". Probes with a throwaway
 * stream, at most 30 s.
 */
async function placementReady(servers: string[], replicas: number, timeoutMs = 30_000): Promise<void> {
  const nc = await connect({ servers });
  const name = `PLACEMENT_PROBE_${process.pid}`;
  const ask = async (subject: string, body?: unknown) =>
    JSON.parse(new TextDecoder().decode((await nc.request(subject, body === undefined ? undefined : JSON.stringify(body), { timeout: 2000 })).data)) as { error?: { description: string } };
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let last = "no answer";
      try {
        const created = await ask(`$JS.API.STREAM.CREATE.${name}`, { name, subjects: [`placement.probe.${process.pid}`], num_replicas: replicas, storage: "memory" });
        if (!created.error) {
          await ask(`$JS.API.STREAM.DELETE.${name}`);
          return;
        }
        last = created.error.description;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`the cluster ${servers.join(",")} could not place ${replicas} replicas within ${timeoutMs} ms: ${last}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await nc.close();
  }
}

/** A single node or a cluster: what the peers benchmark needs. */
export type NatsServer = NatsCluster;
