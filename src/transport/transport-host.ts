/** Main-thread side of the transport thread: starts it, talks to it, stops it. */
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import * as Comlink from "comlink";
import nodeEndpoint, { type NodeEndpoint } from "comlink/dist/esm/node-adapter.mjs";
import type { AcksMessage, BatchMessage, TransportConfig, TransportControl, TransportStats } from "./messages.js";

const WORKER_URL = new URL("../../workers/transport-worker.js", import.meta.url);

export class TransportHost {
  private readonly worker: Worker;
  private readonly control: Comlink.Remote<TransportControl>;
  private readonly port: MessagePort;
  private closed = false;

  private constructor(worker: Worker, port: MessagePort) {
    this.worker = worker;
    this.port = port;
    this.control = Comlink.wrap<TransportControl>(nodeEndpoint(worker as unknown as NodeEndpoint));
  }

  /** Starts the thread and opens the connection (connecting continues in the background). */
  static async start(config: TransportConfig, onAcks: (msg: AcksMessage) => void): Promise<TransportHost> {
    const worker = new Worker(WORKER_URL);
    const { port1, port2 } = new MessageChannel();
    const host = new TransportHost(worker, port1);
    port1.on("message", onAcks);
    await host.control.open(config, Comlink.transfer(port2, [port2] as never) as unknown as MessagePort);
    return host;
  }

  /** Hands a batch to the thread; the parts' buffers are transferred when they own them. */
  send(msg: BatchMessage, transfer: ArrayBuffer[]): void {
    this.port.postMessage(msg, transfer);
  }

  stats(): Promise<TransportStats> {
    return this.control.stats() as Promise<TransportStats>;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.control.close();
    this.control[Comlink.releaseProxy]();
    this.port.close();
    await this.worker.terminate();
  }
}
