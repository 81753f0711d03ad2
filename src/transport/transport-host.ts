/**
 * Main-thread side of the transport thread. One thread serves every producer of the
 * process: each producer opens a session with a data port of its own; the thread starts
 * with the first session and ends with the last, so a process with sixteen producers
 * runs one transport thread, not sixteen.
 */
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import * as Comlink from "comlink";
import nodeEndpoint, { type NodeEndpoint } from "comlink/dist/esm/node-adapter.mjs";
import type { AcksMessage, BatchMessage, SessionOpened, TransportConfig, TransportControl, TransportStats } from "./messages.js";

const WORKER_URL = new URL("../../workers/transport-worker.js", import.meta.url);

/** The process's transport thread, while it has sessions. */
interface SharedThread {
  worker: Worker;
  control: Comlink.Remote<TransportControl>;
  sessions: number;
}

let shared: SharedThread | undefined;
let nextSession = 1;

function acquire(): SharedThread {
  if (!shared) {
    const worker = new Worker(WORKER_URL);
    // An idle transport thread must not keep the process alive; sessions keep it referenced.
    worker.unref();
    shared = { worker, control: Comlink.wrap<TransportControl>(nodeEndpoint(worker as unknown as NodeEndpoint)), sessions: 0 };
  }
  shared.sessions++;
  if (shared.sessions === 1) shared.worker.ref();
  return shared;
}

async function release(thread: SharedThread): Promise<void> {
  if (--thread.sessions > 0) return;
  if (shared === thread) shared = undefined;
  thread.control[Comlink.releaseProxy]();
  await thread.worker.terminate();
}

export class TransportHost {
  readonly #thread: SharedThread;
  readonly #id: number;
  readonly #port: MessagePort;
  #closed = false;

  private constructor(thread: SharedThread, id: number, port: MessagePort) {
    this.#thread = thread;
    this.#id = id;
    this.#port = port;
  }

  /**
   * Opens a session on the transport thread (starting the thread if needed); connecting
   * to the log goes on in the background. With a WAL, the session has read it first.
   */
  static async start(config: TransportConfig, onAcks: (msg: AcksMessage) => void): Promise<{ host: TransportHost; opened: SessionOpened }> {
    const thread = acquire();
    const id = nextSession++;
    const { port1, port2 } = new MessageChannel();
    port1.on("message", onAcks);
    try {
      const opened = await thread.control.open(id, config, Comlink.transfer(port2, [port2] as never) as unknown as MessagePort);
      return { host: new TransportHost(thread, id, port1), opened };
    } catch (err) {
      port1.close();
      await release(thread);
      throw err;
    }
  }

  /** Hands a batch to the thread; the parts' buffers are transferred when they own them. */
  send(msg: BatchMessage, transfer: ArrayBuffer[]): void {
    this.#port.postMessage(msg, transfer);
  }

  async stats(): Promise<TransportStats> {
    return (await this.#thread.control.stats(this.#id)) as TransportStats;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#thread.control.close(this.#id);
    } finally {
      this.#port.close();
      await release(this.#thread);
    }
  }
}

/** Transport threads running in this process now (0 or 1), for tests and benchmarks. */
export function transportThreads(): number {
  return shared ? 1 : 0;
}

/** The transport thread, while it runs (for utilization measurements). */
export function transportWorker(): Worker | undefined {
  return shared?.worker;
}
