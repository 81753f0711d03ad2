// The durable producer's crash test against NATS JetStream: a replayed batch is stored
// once thanks to its messages' Nats-Msg-Id (within the streams' duplicate window).
import { afterEach, describe, it } from "vitest";
import { startNatsServer } from "./helpers/nats.js";
import { crashTest } from "./wal-crash.js";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("durable producer on JetStream", () => {
  it("survives 20 SIGKILLs of the producing process: every durable event stored exactly once, in push order, and the WAL ends empty", async () => {
    const server = await startNatsServer();
    cleanups.push(() => server.stop());
    await crashTest(server.url, cleanups);
  }, 120_000);
});
