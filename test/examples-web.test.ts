// The web example (examples/web/server.ts) as a user runs it: a child process on a free
// port with its embedded broker, driven over HTTP on 127.0.0.1, stopped with SIGTERM; the
// broker's data directory outlives it so that the log can be read back afterwards.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readPartition, removeDir, ROOT, tempDir, testBroker } from "./helpers.js";

const SERVER = path.join(ROOT, "dist/examples/web/server.js");
const PARTITIONS = 4;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Server {
  pid: number;
  url: string;
  dataDir: string;
  exited: Promise<number | null>;
  output(): string;
}

/** Starts the example on port 0 with a data directory and WAL the test owns. */
async function startServer(): Promise<Server> {
  const dataDir = tempDir("tributary-web-data-");
  const walDir = tempDir("tributary-web-wal-");
  cleanups.push(() => removeDir(dataDir), () => removeDir(walDir));
  const child: ChildProcess = spawn(process.execPath, [SERVER, "--port", "0", "--data", dataDir, "--wal", walDir], { stdio: ["ignore", "pipe", "pipe"] });
  cleanups.push(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, "SIGKILL"));
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) (clearInterval(timer), resolve(m[1]!));
    }, 20);
    void exited.then((code) => (clearInterval(timer), reject(new Error(`server exited with ${code}: ${out}`))));
  });
  return { pid: child.pid!, url, dataDir, exited, output: () => out };
}

/** SIGTERM by PID; resolves with the exit code and how long the shutdown took. */
async function terminate(server: Server): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  process.kill(server.pid, "SIGTERM");
  const code = await server.exited;
  return { code, ms: Date.now() - t0 };
}

const post = (url: string, body: unknown, contentType = "application/json") =>
  fetch(url, { method: "POST", headers: { "content-type": contentType }, body: typeof body === "string" ? body : JSON.stringify(body) });

/** /metrics as `name{labels}` → value; every line must be Prometheus text. */
async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split("\n")) {
    if (line === "" || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.e+-]+|[+-]Inf|NaN)$/.exec(line);
    expect(m, `not Prometheus text: ${line}`).not.toBeNull();
    samples.set(m![1]!, Number(m![2]));
  }
  return samples;
}

/** Sum of a metric over the label sets that contain `labels` (e.g. `producer="web"`). */
function total(samples: Map<string, number>, name: string, labels = ""): number {
  let n = 0;
  for (const [key, value] of samples) if (key.startsWith(`${name}{`) && key.includes(labels)) n += value;
  return n;
}

/** Polls /metrics until no producer has a pending event. */
async function settled(url: string): Promise<Map<string, number>> {
  for (;;) {
    const samples = await scrape(url);
    if (total(samples, "tributary_producer_events_pending") === 0) return samples;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every event of the topic, read from the data directory the server left behind. */
async function readLog(dataDir: string): Promise<Map<string, string>> {
  const broker = await testBroker(dataDir);
  try {
    const byPosition = new Map<string, string>();
    for (let p = 0; p < PARTITIONS; p++) {
      for (const e of await readPartition(broker.url, "items", p)) byPosition.set(`${p}:${e.id}`, (e.metadata as { name: string }).name);
    }
    return byPosition;
  } finally {
    await broker.close();
  }
}

describe("web example", () => {
  it("answers every endpoint as documented, refuses bad bodies without producing, and its metrics count what it produced", async () => {
    const server = await startServer();
    const { url } = server;
    expect(Number(new URL(url).port)).toBeGreaterThan(0);

    const noop = await post(`${url}/noop`, { name: "nothing" });
    expect([noop.status, await noop.text()]).toEqual([202, ""]);

    const names = { awaited: [] as string[], callback: [] as string[], fireAndForget: [] as string[], durable: [] as string[] };
    const awaited = new Map<string, string>();
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const a = await post(`${url}/items`, { name: `awaited-${i}` });
        expect(a.status).toBe(200);
        const { partition, id } = (await a.json()) as { partition: number; id: number };
        expect(partition).toBeGreaterThanOrEqual(0);
        expect(Number.isInteger(id)).toBe(true);
        awaited.set(`${partition}:${id}`, `awaited-${i}`);
        names.awaited.push(`awaited-${i}`);
        for (const [path, list, status] of [
          ["/items/callback", names.callback, 202],
          ["/items/fire-and-forget", names.fireAndForget, 202],
          ["/items/durable", names.durable, 200],
        ] as const) {
          const name = `${path.slice("/items/".length)}-${i}`;
          const res = await post(`${url}${path}`, { name });
          expect([res.status, await res.text()]).toEqual([status, ""]);
          list.push(name);
        }
      }),
    );

    const before = await settled(url);
    // Bad bodies on every endpoint: refused by the schema (or the parser) before any push.
    const bad: [unknown, string, number][] = [
      [{}, "application/json", 400],
      [{ name: 5 }, "application/json", 400],
      [{ name: "" }, "application/json", 400],
      [["bad-array"], "application/json", 400],
      ['{"name": "bad-unterminated', "application/json", 400],
      ["name=bad-form", "application/x-www-form-urlencoded", 415],
    ];
    for (const path of ["/noop", "/items", "/items/callback", "/items/fire-and-forget", "/items/durable"]) {
      for (const [body, type, status] of bad) {
        const res = await post(`${url}${path}`, body, type);
        expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(status);
        expect(await res.json()).toMatchObject({ statusCode: status, error: expect.any(String), message: expect.any(String) });
      }
    }
    const after = await settled(url);
    expect(total(after, "tributary_producer_events_pushed_total")).toBe(total(before, "tributary_producer_events_pushed_total"));

    // The counters match what was produced: 30 events by "web", 10 by "web-durable", all acknowledged.
    expect(total(after, "tributary_producer_events_pushed_total", 'producer="web"')).toBe(30);
    expect(total(after, "tributary_producer_events_acknowledged_total", 'producer="web"')).toBe(30);
    expect(total(after, "tributary_producer_events_pushed_total", 'producer="web-durable"')).toBe(10);
    expect(total(after, "tributary_producer_events_acknowledged_total", 'producer="web-durable"')).toBe(10);
    expect(total(after, "tributary_producer_events_failed_total")).toBe(0);
    expect(after.get('web_callback_events_total{outcome="acknowledged"}')).toBe(10);
    expect(after.get('web_callback_events_total{outcome="failed"}') ?? 0).toBe(0);
    expect(total(after, "tributary_producer_batch_events_sum")).toBe(40);

    const { code } = await terminate(server);
    expect(code).toBe(0);
    expect(server.output()).toMatch(/SIGTERM: shut down in \d+ ms: 40 acknowledged, 0 failed, 0 lost/);

    // The log holds exactly the 40 good events; each awaited one where its answer said.
    const log = await readLog(server.dataDir);
    expect([...log.values()].sort()).toEqual([...names.awaited, ...names.callback, ...names.fireAndForget, ...names.durable].sort());
    for (const [position, name] of awaited) expect(log.get(position)).toBe(name);
  });

  it("on SIGTERM under load of awaited requests, stops accepting, answers the requests in flight, flushes and exits 0: every 200 is in the log", async () => {
    const server = await startServer();
    const { url } = server;
    const confirmed: { name: string; position: string }[] = [];
    const refused: number[] = [];
    let failedRequests = 0;
    let signalled = false;
    let answeredAfterSignal = 0;
    let stop = false;
    // 50 clients, each posting one awaited request after the other until the server goes.
    const clients = Array.from({ length: 50 }, async (_, c) => {
      for (let n = 0; !stop; n++) {
        const name = `client-${c}-${n}`;
        try {
          const res = await post(`${url}/items`, { name });
          if (res.status !== 200) {
            refused.push(res.status);
            await res.arrayBuffer();
            return;
          }
          const { partition, id } = (await res.json()) as { partition: number; id: number };
          confirmed.push({ name, position: `${partition}:${id}` });
          if (signalled) answeredAfterSignal++;
        } catch {
          failedRequests++; // the connection closed under it: the client was not told 200
          return;
        }
      }
    });
    while (confirmed.length < 2000) await new Promise((r) => setTimeout(r, 10));
    signalled = true;
    const { code, ms } = await terminate(server);
    stop = true;
    await Promise.all(clients);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000 + 2_000); // the shutdown's own timeout, plus process exit
    expect(server.output()).toMatch(/SIGTERM: shut down in \d+ ms: \d+ acknowledged, 0 failed, 0 lost/);
    // The requests in flight at the signal were answered; what was refused during the
    // drain was refused with 503 (or its connection closed), not left hanging.
    expect(answeredAfterSignal).toBeGreaterThan(0);
    expect(refused.every((s) => s === 503)).toBe(true);

    const log = await readLog(server.dataDir);
    const missing = confirmed.filter(({ name, position }) => log.get(position) !== name);
    expect(missing).toEqual([]);
    // Nothing was stored twice; what is stored beyond the confirmed events was in flight
    // when the connections closed (produced, but its client never heard back).
    expect(new Set(log.values()).size).toBe(log.size);
    expect(log.size - confirmed.length).toBeLessThanOrEqual(refused.length + failedRequests);
  });

  it("explains its command line: --help, an unknown flag, a bad port", () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [SERVER, ...args], { encoding: "utf8", timeout: 10_000 });
    const help = run("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: node dist\/examples\/web\/server\.js/);
    for (const [args, message] of [
      [["--bogus"], /Unknown option '--bogus'/],
      [["--port", "http"], /--port must be an integer in 0\.\.65535, got 'http'/],
      [["--broker", "tributary://127.0.0.1:9", "--data", "x"], /--data is for the embedded broker/],
    ] as const) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/usage:/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user mistake
    }
  });
});
