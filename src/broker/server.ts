/** Starts the broker's gRPC server in this process. */
import grpc from "@grpc/grpc-js";
import { Broker, type BrokerOptions } from "./broker.js";
import { brokerHandlers } from "./grpc-service.js";
import { brokerService } from "../protocol/protocol.js";
import { GRPC_CHANNEL_OPTIONS } from "../protocol/channel-options.js";

export interface StartBrokerOptions extends BrokerOptions {
  /** TCP port; 0 picks a free one. Default 9292. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
}

/** A broker serving gRPC in this process. */
export interface RunningBroker {
  /** `host:port` it listens on. */
  readonly address: string;
  /** `tributary://host:port`, for `Driver.connect`. */
  readonly url: string;
  readonly port: number;
  readonly broker: Broker;
  /** Stops accepting calls, ends open streams, syncs and closes every log. */
  close(): Promise<void>;
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
  const broker = new Broker(options);
  const server = new grpc.Server({ ...GRPC_CHANNEL_OPTIONS });
  server.addService(brokerService, brokerHandlers(broker));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host.includes(":") ? `[${host}]` : host}:${options.port ?? 9292}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    address,
    url: `tributary://${address}`,
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
