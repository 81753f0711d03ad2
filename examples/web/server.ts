/**
 * A web service that produces one event per request (Fastify), five ways to compare
 * under load: not at all, fire-and-forget, with a delivery callback, durable in a
 * write-ahead log, and awaited. Plus Prometheus metrics and a graceful shutdown.
 *
 *   npm run web -- --port 3000
 *   curl -X POST localhost:3000/items -H 'content-type: application/json' -d '{"name":"apple"}'
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import Fastify from "fastify";
import { collectDefaultMetrics, Counter, Registry } from "prom-client";
import { BrokerError, Driver, shutdownOnSignals, type DeliveryCallback } from "tributary";

const USAGE = `usage: node dist/examples/web/server.js [options]

  --port N       HTTP port (default 3000; 0 picks a free one)
  --host HOST    HTTP address (default 127.0.0.1)
  --broker URL   a running broker, e.g. tributary://127.0.0.1:9292 (default: an embedded one)
  --data DIR     data directory of the embedded broker (default: temporary, removed on exit)
  --fsync POLICY the embedded broker's fsync policy: always (default), interval or never
  --topic NAME   topic to produce to, created if missing (default items)
  --wal DIR      write-ahead log of POST /items/durable (default: temporary, removed on exit;
                 give a lasting DIR to have a restarted server deliver what a crash left)
  --help         this text`;

let args;
try {
  args = parseArgs({
    options: {
      port: { type: "string", default: "3000" },
      host: { type: "string", default: "127.0.0.1" },
      broker: { type: "string" },
      data: { type: "string" },
      fsync: { type: "string", default: "always" },
      topic: { type: "string", default: "items" },
      wal: { type: "string" },
      help: { type: "boolean", default: false },
    },
  }).values;
} catch (err) {
  usageError((err as Error).message);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) usageError(`--port must be an integer in 0..65535, got '${args.port}'`);
if (args.broker && args.data) usageError("--data is for the embedded broker; leave it out with --broker");
const fsync = args.fsync as "always" | "interval" | "never";
if (!["always", "interval", "never"].includes(fsync)) usageError(`--fsync must be always, interval or never, got '${args.fsync}'`);

// What the server made for itself goes when it exits (after the shutdown has flushed).
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tributary-web-"));
process.on("exit", () => fs.rmSync(scratch, { recursive: true, force: true }));

// Requests are logged at info, so not at all here (a line per request would cost more
// than producing the event); warnings and errors are, tributary's included.
const app = Fastify({
  logger: { level: "warn" },
  // Fastify coerces types by default, which would turn {"name": 5} into "5".
  ajv: { customOptions: { coerceTypes: false } },
});
const registry = new Registry();
collectDefaultMetrics({ register: registry });

try {
  const options = { logger: app.log, metrics: { registry } };
  const driver = args.broker
    ? await Driver.connect(args.broker, options)
    : await Driver.embedded({ dir: args.data ?? path.join(scratch, "broker"), fsync, ...options });
  // SIGTERM / SIGINT: stop accepting and finish the requests in flight (app.close), then
  // flush every producer, then exit 0 (1 if events were lost).
  shutdownOnSignals(driver, {
    timeoutMs: 10_000,
    logger: app.log,
    beforeClose: () => {
      // Node closes the keep-alive connections idle when close() is called, not those that
      // become idle once their request is answered: without this, close() waits for the
      // clients (or the 72 s keep-alive timeout) to hang up.
      const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
      return app.close().finally(() => clearInterval(reaper));
    },
    onReport: ({ signal, close, error, ms }) =>
      error
        ? console.error(`shutdown failed: ${(error as Error).message}`)
        : console.log(`${signal}: shut down in ${ms} ms: ${close?.acknowledged} acknowledged, ${close?.failed} failed, ${close?.lost} lost, ${close?.leftInWal} left in the WAL`),
  });

  try {
    await driver.createTopic(args.topic, { partitions: 4 });
  } catch (err) {
    if (!(err instanceof BrokerError && err.code === "TOPIC_EXISTS")) throw err;
  }
  const topic = await driver.openTopic(args.topic);
  const threadPool = driver.makeThreadPool("auto");
  // An awaited request waits at most this long for the log; so does the shutdown.
  const deliveryTimeoutMs = 10_000;
  const producer = topic.producer({ name: "web", threadPool, deliveryTimeoutMs });
  // The durable endpoint has a producer of its own: only it pays for the write-ahead log.
  const durable = topic.producer({ name: "web-durable", threadPool, deliveryTimeoutMs, wal: { dir: args.wal ?? path.join(scratch, "wal") } });

  // The callback endpoint counts outcomes; one function for all pushes, no closure per request.
  const outcomes = new Counter({ name: "web_callback_events_total", help: "Outcomes of POST /items/callback events.", labelNames: ["outcome"], registers: [registry] });
  const acknowledged = outcomes.labels("acknowledged");
  const failed = outcomes.labels("failed");
  const countOutcome: DeliveryCallback = (err) => (err ? failed : acknowledged).inc();

  const schema = {
    body: {
      type: "object",
      required: ["name"],
      properties: { name: { type: "string", minLength: 1, maxLength: 1000 } },
      additionalProperties: false,
    },
  };
  type Item = { Body: { name: string } };
  const failure = (err: unknown) => ({ error: (err as Error).message, code: (err as { code?: string }).code ?? "UNKNOWN" });

  app.post<Item>("/noop", { schema }, async (_request, reply) => reply.code(202).send());

  // Failures nobody hears of are logged by tributary, once per error kind and then as counts.
  // When the log falls behind, the producer is at capacity and requests wait for room
  // (memory stays bounded) instead of queueing without limit.
  app.post<Item>("/items/fire-and-forget", { schema }, async (request, reply) => {
    if (!producer.hasCapacity) await producer.ready();
    producer.push(request.body);
    return reply.code(202).send();
  });

  app.post<Item>("/items/callback", { schema }, async (request, reply) => {
    if (!producer.hasCapacity) await producer.ready();
    producer.push(request.body, undefined, { onDelivery: countOutcome });
    return reply.code(202).send();
  });

  app.post<Item>("/items/durable", { schema }, async (request, reply) => {
    try {
      await durable.push(request.body).durable();
      return reply.code(200).send();
    } catch (err) {
      return reply.code(503).send(failure(err));
    }
  });

  app.post<Item>("/items", { schema }, async (request, reply) => {
    const future = producer.push(request.body);
    try {
      const id = await future;
      return { partition: future.partition, id };
    } catch (err) {
      return reply.code(503).send(failure(err));
    }
  });

  app.get("/metrics", async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  const address = await app.listen({ port, host: args.host });
  console.log(`listening on ${address} (topic '${args.topic}' on ${driver.url}${args.broker ? "" : ", embedded"})`);
} catch (err) {
  // A broker that cannot be reached or a port in use: say so, without a stack trace.
  console.error(`web: ${(err as Error).message}`);
  process.exit(1);
}

function usageError(message: string): never {
  console.error(`web: ${message}\n\n${USAGE}`);
  process.exit(2);
}
