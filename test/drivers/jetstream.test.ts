// The driver conformance suite against NATS JetStream (a real single-node nats-server).
import { afterAll, beforeAll } from "vitest";
import { connectDriver } from "../../dist/src/internal.js";
import { startNatsServer, type NatsCluster } from "../helpers/nats.js";
import { driverConformance } from "./conformance.js";

let server: NatsCluster;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

driverConformance("jetstream", {
  connect: () => connectDriver(server.url),
  // Port 1 (tcpmux) has no listener on a test machine: connecting is refused at once.
  unreachableUrl: "nats://127.0.0.1:1",
});
