/**
 * The JetStream driver's URL form (`nats://host:port[,host:port…]`) and the connection
 * options passed through to nats.js. Both must be structured-cloneable: they travel to
 * the producer's transport thread, which opens its own connection.
 */
import { connect, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { BrokerError, InvalidArgumentError } from "../../core/errors.js";
import { JETSTREAM_DEFAULTS } from "./defaults.js";
import { natsError } from "./errors.js";

/** TLS for the NATS connection: file paths or PEM text. */
export interface NatsTlsOptions {
  caFile?: string;
  ca?: string;
  certFile?: string;
  cert?: string;
  keyFile?: string;
  key?: string;
}

/** Credentials and TLS of a NATS connection (`Driver.connect(url, { nats: {...} })`). */
export interface NatsConnectOptions {
  /** User and password. */
  user?: string;
  pass?: string;
  /** Token authentication. */
  token?: string;
  /** TLS; `{}` asks for TLS with the system's CAs. */
  tls?: NatsTlsOptions;
  /** Connection name shown by the server's monitoring. Default "tributary". */
  name?: string;
}

/** Where and how to connect: what the driver and each transport thread need. */
export interface NatsEndpoint {
  servers: string[];
  options: NatsConnectOptions;
}

/** Parses `nats://host[:port][,host[:port]…]` into `host:port` entries. */
export function parseNatsUrl(url: string): string[] {
  const m = /^nats:\/\/([^/?#]+)\/?$/i.exec(url.trim());
  if (!m) throw new InvalidArgumentError(`NATS URL '${url}' is not of the form nats://host:port[,host:port…]`);
  return m[1]!.split(",").map((part) => {
    const hp = /^(\[[^\]]+\]|[^:,@\s]+)(?::(\d{1,5}))?$/.exec(part.trim());
    const port = hp ? Number(hp[2] ?? JETSTREAM_DEFAULTS.port) : NaN;
    if (!hp || !(port > 0 && port <= 65535)) {
      throw new InvalidArgumentError(`'${part}' in NATS URL '${url}' is not host:port (credentials go in the nats connection options, not the URL)`);
    }
    return `${hp[1]}:${port}`;
  });
}

/** Checks the pass-through options; returns a plain copy (no functions, so it clones to a thread). */
export function checkNatsOptions(options: unknown): NatsConnectOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) throw new InvalidArgumentError("nats connection options must be an object { user, pass, token, tls, name }");
  const o = options as Record<string, unknown>;
  const known = new Set(["user", "pass", "token", "tls", "name"]);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new InvalidArgumentError(`unknown nats connection option '${k}' (known: ${[...known].join(", ")})`);
  for (const k of ["user", "pass", "token", "name"]) {
    if (o[k] !== undefined && typeof o[k] !== "string") throw new InvalidArgumentError(`nats option '${k}' must be a string`);
  }
  if (o.tls !== undefined) {
    if (typeof o.tls !== "object" || o.tls === null) throw new InvalidArgumentError("nats option 'tls' must be an object { caFile, ca, certFile, cert, keyFile, key }");
    for (const [k, v] of Object.entries(o.tls)) {
      if (!["caFile", "ca", "certFile", "cert", "keyFile", "key"].includes(k) || typeof v !== "string") {
        throw new InvalidArgumentError(`nats option tls.${k} must be one of caFile, ca, certFile, cert, keyFile, key, as a string`);
      }
    }
  }
  return JSON.parse(JSON.stringify(o)) as NatsConnectOptions;
}

/**
 * Opens a NATS connection that reconnects forever: a producer rides out node restarts,
 * and what it cannot deliver fails by its own delivery timeout, not by a reconnect limit.
 */
export async function openConnection(endpoint: NatsEndpoint, timeoutMs: number): Promise<NatsConnection> {
  const { options } = endpoint;
  const opts: NodeConnectionOptions = {
    servers: endpoint.servers,
    name: options.name ?? "tributary",
    timeout: timeoutMs,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  };
  if (options.user !== undefined) opts.user = options.user;
  if (options.pass !== undefined) opts.pass = options.pass;
  if (options.token !== undefined) opts.token = options.token;
  if (options.tls !== undefined) opts.tls = { ...options.tls };
  try {
    return await connect(opts);
  } catch (err) {
    const e = natsError(err, `cannot connect to NATS at ${endpoint.servers.join(",")}`);
    throw e.code === "UNKNOWN" ? new BrokerError("UNAVAILABLE", e.message, { cause: err }) : e;
  }
}
