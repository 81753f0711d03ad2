// The driver conformance suite against the tributary broker (a real broker on port 0).
import { afterAll, beforeAll } from "vitest";
import { connectDriver } from "../../dist/src/internal.js";
import { removeDir, testBroker } from "../helpers.js";
import { driverConformance } from "./conformance.js";

let broker: Awaited<ReturnType<typeof testBroker>>;
beforeAll(async () => {
  broker = await testBroker();
});
afterAll(async () => {
  await broker.close();
  removeDir(broker.dir);
});

driverConformance("tributary", {
  connect: () => connectDriver(broker.url),
  // Port 1 (tcpmux) has no listener on a test machine: connecting is refused at once.
  unreachableUrl: "tributary://127.0.0.1:1",
});
