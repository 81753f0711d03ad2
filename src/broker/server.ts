/** Starts the broker's gRPC server in this process. */
import grpc from "@grpc/grpc-js";
import { Authenticator, type AuthConfig } from "./auth.js";
import { Broker, type BrokerOptions } from "./broker.js";
import { brokerHandlers } from "./grpc-service.js";
import { brokerService } from "../protocol/protocol.js";
import { GRPC_CHANNEL_OPTIONS } from "../protocol/channel-options.js";

/** PEM contents (not paths) of the server's TLS identity. */
export interface ServerTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA that client certificates must chain to; set, clients must present one (mTLS). */
  ca?: string | Buffer;
}

export interface StartBrokerOptions extends BrokerOptions {
  /** TCP port; 0 picks a free one. Default 9292. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Serve TLS (`tributarys://`) instead of plaintext. */
  tls?: ServerTlsOptions;
  /** Bearer tokens and their roles; without, every caller may do everything. */
  auth?: AuthConfig;
  /**
   * Listen on a non-loopback address without TLS and client authentication. Refused
   * unless set: anyone reaching the port could read, write and delete every topic.
   */
  insecure?: boolean;
}

/** A broker serving gRPC in this process. */
export interface RunningBroker {
  /** `host:port` it listens on. */
  readonly address: string;
  /** `tributary://host:port` (`tributarys://` with TLS), for `Driver.connect`. */
  readonly url: string;
  readonly port: number;
  readonly broker: Broker;
  /** Stops accepting calls, ends open streams, syncs and closes every log. */
  close(): Promise<void>;
}


/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === "::ffff:127.0.0.1";
}

/** Why listening on `host` with these options would expose the broker, or undefined. */
export function exposureProblem(options: Pick<StartBrokerOptions, "host" | "tls" | "auth" | "insecure">): string | undefined {
  const host = options.host ?? "127.0.0.1";
  if (isLoopback(host) || options.insecure) return undefined;
  const missing = [!options.tls && "TLS (--tls-cert, --tls-key)", !options.auth && !options.tls?.ca && "client authentication (--auth FILE or --tls-ca)"].filter(Boolean);
  if (missing.length === 0) return undefined;
  return (
    `refusing to listen on ${host} without ${missing.join(" and ")}: anyone who can reach the port could read, ` +
    `write and delete every topic. Listen on 127.0.0.1, add the missing credentials, or pass --insecure to accept the risk`
  );
}

/**
 * Starts a broker on `host:port` (port 0 picks a free port) over the data directory `dir`.
 *
 * @example
 * const b = await startBroker({ dir: "./data", port: 0 });
 * console.log(b.url); // tributary://127.0.0.1:40411
 * await b.close();
 */
export async function startBroker(options: StartBrokerOptions): Promise<RunningBroker> {
  const host = options.host ?? "127.0.0.1";
  const exposed = exposureProblem(options);
  if (exposed) throw new Error(exposed);
  const auth = options.auth ? new Authenticator(options.auth) : undefined;
  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(
        options.tls.ca ? Buffer.from(options.tls.ca) : null,
        [{ cert_chain: Buffer.from(options.tls.cert), private_key: Buffer.from(options.tls.key) }],
        options.tls.ca !== undefined,
      )
    : grpc.ServerCredentials.createInsecure();
  const broker = new Broker(options);
  const server = new grpc.Server({ ...GRPC_CHANNEL_OPTIONS });
  server.addService(brokerService, brokerHandlers(broker, { auth }));
  const bracketed = host.includes(":") ? `[${host}]` : host;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${bracketed}:${options.port ?? 9292}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
    );
  } catch (err) {
    server.forceShutdown();
    broker.close();
    throw err;
  }
  const address = `${bracketed}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    address,
    url: `${options.tls ? "tributarys" : "tributary"}://${address}`,
    port,
    broker,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        // Streams in follow mode never end by themselves: force after a short grace period.
        const force = setTimeout(() => server.forceShutdown(), 500);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }).then(() => broker.close())),
  };
}
