/** Starts the broker on a worker thread of this process (the embedded default). */
import { Worker } from "node:worker_threads";
import type { StartBrokerOptions } from "./server.js";

const WORKER_URL = new URL("../../workers/broker-worker.js", import.meta.url);

/** A broker running on a thread of this process. */
export interface BrokerThread {
  readonly url: string;
  readonly port: number;
  /** The thread (for utilization measurements). */
  readonly worker: Worker;
  /** Closes the broker (syncing its logs) and ends the thread. */
  close(): Promise<void>;
}

export async function startBrokerThread(options: StartBrokerOptions): Promise<BrokerThread> {
  const worker = new Worker(WORKER_URL, { workerData: options });
  const started = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`embedded broker thread exited with code ${code} before it started`)));
  });
  let closing: Promise<void> | undefined;
  return {
    url: started.url,
    port: started.port,
    worker,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => {
          worker.once("message", () => resolve());
          worker.once("exit", () => resolve());
        });
        worker.postMessage("close");
        await closed;
        await worker.terminate();
      })()),
  };
}
