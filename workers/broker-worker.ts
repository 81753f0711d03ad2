/**
 * Runs the embedded broker on its own thread, so that the gRPC server and the disk
 * writes do not compete with the producer's main thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { startBroker, type StartBrokerOptions } from "../src/broker/server.js";

const broker = await startBroker(workerData as StartBrokerOptions);
parentPort!.on("message", (msg: string) => {
  if (msg === "close") void broker.close().then(() => parentPort!.postMessage({ closed: true }));
});
parentPort!.postMessage({ url: broker.url, address: broker.address, port: broker.port });
