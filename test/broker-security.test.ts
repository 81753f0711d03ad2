/**
 * TLS, client certificates and bearer tokens with roles; a broker on a non-loopback
 * address without credentials refuses to start. Certificates are made here with openssl.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exposureProblem, startBroker, type RunningBroker } from "../dist/src/broker/index.js";
import { BrokerClient, appendError } from "../dist/src/drivers/tributary/broker-client.js";
import { batch, readOutcome } from "./broker-helpers.js";
import { CLI, removeDir, tempDir } from "./helpers.js";

let certs: string;
const pem = (name: string): Buffer => fs.readFileSync(path.join(certs, name));
const ADMIN = "admin-token-0123456789abcdef";
const PRODUCE = "produce-token-0123456789abcdef";
const auth = { tokens: [{ token: ADMIN, role: "admin" as const, name: "ops" }, { token: PRODUCE, role: "produce" as const, name: "ingest" }] };
const running: { close(): Promise<void> }[] = [];
const dirs: string[] = [];

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by the CA. */
function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  ssl("req", "-x509", ...ec, "-days", "1", "-subj", "/CN=tributary test CA", "-keyout", "ca.key", "-out", "ca.crt");
  fs.writeFileSync(path.join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  fs.writeFileSync(path.join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const who of ["server", "client"]) {
    ssl("req", ...ec, "-subj", `/CN=${who === "server" ? "localhost" : "tributary test client"}`, "-keyout", `${who}.key`, "-out", `${who}.csr`);
    ssl("x509", "-req", "-in", `${who}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", `${who}.ext`, "-out", `${who}.crt`);
  }
}

async function broker(options: Partial<Parameters<typeof startBroker>[0]> = {}): Promise<RunningBroker> {
  const dir = tempDir();
  dirs.push(dir);
  const b = await startBroker({ dir, port: 0, ...options });
  running.push(b);
  return b;
}

beforeAll(() => {
  certs = tempDir("tributary-certs-");
  makeCertificates(certs);
});
afterAll(async () => {
  for (const b of running) await b.close();
  for (const d of [certs, ...dirs]) removeDir(d);
});

describe("TLS", () => {
  it("serves tributarys:// to clients that trust its CA, and nobody else", async () => {
    const b = await broker({ tls: { cert: pem("server.crt"), key: pem("server.key") } });
    expect(b.url).toMatch(/^tributarys:\/\/127\.0\.0\.1:\d+$/);
    const client = new BrokerClient(b.url, { tls: { ca: pem("ca.crt") } });
    try {
      await client.createTopic({ name: "tls", partitions: 1 });
      await client.openAppendStream().append({ topic: "tls", partition: 0, producerId: "p", batchSeq: 0, count: 2, records: batch("t", 2) });
      expect((await readOutcome(client, "tls", 0)).events.map((e) => e.metadata)).toEqual(['{"k":"t-0"}', '{"k":"t-1"}']);
    } finally {
      client.close();
    }
    for (const stranger of [new BrokerClient(b.url.replace("tributarys", "tributary")), new BrokerClient(b.url)]) {
      try {
        await expect(stranger.waitForReady(1000)).rejects.toMatchObject({ code: "UNAVAILABLE" });
      } finally {
        stranger.close();
      }
    }
  });

  it("with --tls-ca requires a client certificate signed by that CA (mTLS)", async () => {
    const b = await broker({ tls: { cert: pem("server.crt"), key: pem("server.key"), ca: pem("ca.crt") } });
    const anonymous = new BrokerClient(b.url, { tls: { ca: pem("ca.crt") } });
    const known = new BrokerClient(b.url, { tls: { ca: pem("ca.crt"), cert: pem("client.crt"), key: pem("client.key") } });
    try {
      await expect(anonymous.listTopics()).rejects.toMatchObject({ code: "UNAVAILABLE" });
      expect(await known.listTopics()).toEqual([]);
    } finally {
      anonymous.close();
      known.close();
    }
  });
});

describe("tokens", () => {
  it("refuses calls without a valid token (UNAUTHENTICATED) and admin calls from the produce role (PERMISSION_DENIED)", async () => {
    const b = await broker({ auth });
    const [none, wrong, producer, admin] = [undefined, "not-a-valid-token-at-all", PRODUCE, ADMIN].map((token) => new BrokerClient(b.url, { token }));
    try {
      await admin.createTopic({ name: "auth", partitions: 1 });
      for (const [who, message] of [[none, "needs a token"], [wrong, "token is not valid"]] as const) {
        await expect(who.describeTopic("auth")).rejects.toMatchObject({ code: "UNAUTHENTICATED", message: expect.stringContaining(message) });
        await expect(who.listTopics()).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
        expect((await readOutcome(who, "auth", 0, "earliest", 2000)).error).toMatchObject({ code: "UNAUTHENTICATED" });
        await expect(who.openAppendStream().append({ topic: "auth", partition: 0, producerId: "x", batchSeq: 0, count: 1, records: batch("x", 1) })).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
        await expect(who.commitCursor("auth", "c", 0, 1)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
      }
      // produce: append, read, describe, list, cursors; not create or delete.
      const ack = await producer.openAppendStream().append({ topic: "auth", partition: 0, producerId: "p", batchSeq: 0, count: 1, records: batch("ok", 1) });
      expect(appendError(ack)).toBeUndefined();
      expect((await readOutcome(producer, "auth", 0)).events).toHaveLength(1);
      expect((await producer.listTopics()).map((t) => t.name)).toEqual(["auth"]);
      await producer.commitCursor("auth", "c", 0, 1);
      expect(await producer.claimCursor("auth", "c", 0)).toMatchObject({ nextOffset: 1, generation: 1 });
      await expect(producer.createTopic({ name: "nope", partitions: 1 })).rejects.toMatchObject({ code: "PERMISSION_DENIED", message: expect.stringContaining("needs the admin role; ingest has role produce") });
      await expect(producer.deleteTopic("auth")).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
      expect(await admin.deleteTopic("auth")).toBe(true);
    } finally {
      [none, wrong, producer, admin].forEach((c) => c!.close());
    }
  });

  it("rejects a token file with short tokens or unknown roles at start", async () => {
    await expect(broker({ auth: { tokens: [{ token: "short", role: "admin" }] } })).rejects.toThrow(/at least 16 characters/);
    await expect(broker({ auth: { tokens: [{ token: "x".repeat(20), role: "root" as "admin" }] } })).rejects.toThrow(/roles are produce, admin/);
  });
});

describe("exposure", () => {
  it("refuses a non-loopback address without TLS and client authentication, unless insecure", async () => {
    expect(exposureProblem({ host: "0.0.0.0" })).toMatch(/refusing to listen on 0.0.0.0 without TLS .* and client authentication/);
    expect(exposureProblem({ host: "10.1.2.3", tls: { cert: "c", key: "k" } })).toMatch(/without client authentication \(--auth FILE or --tls-ca\)/);
    expect(exposureProblem({ host: "0.0.0.0", tls: { cert: "c", key: "k" }, auth })).toBeUndefined();
    expect(exposureProblem({ host: "0.0.0.0", tls: { cert: "c", key: "k", ca: "a" } })).toBeUndefined();
    expect(exposureProblem({ host: "0.0.0.0", insecure: true })).toBeUndefined();
    for (const host of ["127.0.0.1", "127.8.9.1", "localhost", "::1", "[::1]"]) expect(exposureProblem({ host })).toBeUndefined();
    const dir = tempDir();
    dirs.push(dir);
    await expect(startBroker({ dir, port: 0, host: "0.0.0.0" })).rejects.toThrow(/pass --insecure to accept the risk/);
  });
});

describe("CLI", () => {
  it("serves TLS with tokens; client commands take $TRIBUTARY_TOKEN and $TRIBUTARY_TLS_CA; serve refuses an exposed address", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const authFile = path.join(certs, "tokens.json");
    fs.writeFileSync(authFile, JSON.stringify(auth));
    const child = spawn(process.execPath, [CLI, "serve", "--dir", dir, "--port", "0", "--tls-cert", path.join(certs, "server.crt"), "--tls-key", path.join(certs, "server.key"), "--auth", authFile], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /listening on (tributarys:\/\/\S+) .*TLS, 2 tokens/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      const run = (env: Record<string, string>, ...args: string[]) =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const c = spawn(process.execPath, [CLI, ...args, "--broker", url], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
          let out = "";
          c.stdout!.on("data", (d: Buffer) => (out += d));
          c.stderr!.on("data", (d: Buffer) => (out += d));
          c.once("exit", (code) => resolve({ code, out }));
        });
      const tlsEnv = { TRIBUTARY_TLS_CA: path.join(certs, "ca.crt") };
      expect(await run({ ...tlsEnv, TRIBUTARY_TOKEN: ADMIN }, "topic", "create", "cli", "--partitions", "2", "--json")).toMatchObject({ code: 0, out: expect.stringContaining('"name":"cli"') });
      const listed = await run({ ...tlsEnv, TRIBUTARY_TOKEN: PRODUCE }, "topic", "list", "--json");
      expect(listed).toMatchObject({ code: 0, out: expect.stringContaining('"name":"cli"') });
      expect(listed.out).not.toMatch(/Warning|DEP0123/); // no TLS-servername warning for an IP address
      expect(await run({ ...tlsEnv, TRIBUTARY_TOKEN: PRODUCE }, "topic", "delete", "cli")).toMatchObject({ code: 1, out: expect.stringContaining("needs the admin role") });
      expect(await run(tlsEnv, "topic", "list")).toMatchObject({ code: 1, out: expect.stringContaining("needs a token") });
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
    }
    const exposed = spawn(process.execPath, [CLI, "serve", "--dir", dir, "--port", "0", "--host", "0.0.0.0"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    exposed.stderr!.on("data", (d: Buffer) => (err += d));
    const code = await new Promise((r) => exposed.once("exit", r));
    expect(code).toBe(1);
    expect(err).toMatch(/refusing to listen on 0\.0\.0\.0 without TLS/);
  });
});
