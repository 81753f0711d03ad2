#!/usr/bin/env node
/** The `tributary` command: serve, topic, consume, produce. (Benchmarks: `npm run bench` in a checkout.) */
import { parseArgs } from "node:util";
import { serveCommand } from "./cli/serve.js";
import { topicCommand } from "./cli/topic.js";
import { consumeCommand } from "./cli/consume.js";
import { UsageError } from "./cli/usage.js";

const USAGE = `tributary — parallel event producer and partition broker

Usage:
  tributary serve   --dir DATA [--port 9292] [--host 127.0.0.1] [--fsync always|interval|never]
                    [--tls-cert FILE --tls-key FILE [--tls-ca FILE]] [--auth TOKENS.json] [--insecure]
                    [--limit NAME=N ...]
  tributary topic   create NAME [--partitions 4] [--replicas 1] [--validator SPEC] [--selector SPEC] [--serializer SPEC] [--broker URL]
  tributary topic   list | describe NAME | delete NAME [--broker URL]
  tributary consume TOPIC [--partition N] [--from earliest|latest|OFFSET] [--follow] [--broker URL]
  tributary produce [--events 1000000] [--threads N] [--ordering strict|loose] [--batch-size adaptive|N] [--broker URL]

--broker defaults to tributary://127.0.0.1:9292 (or $TRIBUTARY_BROKER); tributarys:// speaks TLS;
nats://host:port[,host:port…] selects NATS JetStream (--replicas > 1 needs a JetStream cluster).
Client credentials: $TRIBUTARY_TOKEN, $TRIBUTARY_TLS_CA, $TRIBUTARY_TLS_CERT, $TRIBUTARY_TLS_KEY.`;

const commands: Record<string, (args: string[]) => Promise<void>> = {
  serve: serveCommand,
  topic: topicCommand,
  consume: consumeCommand,
  produce: async (args) => (await import("./cli/produce.js")).produceCommand(args),
};

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return;
  }
  const run = commands[command];
  if (!run) throw new UsageError(`unknown command '${command}'`);
  await run(rest);
}

main().catch((err: Error) => {
  if (err instanceof UsageError) {
    console.error(`tributary: ${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(`tributary: ${err.name === "Error" ? "" : `${err.name}: `}${err.message}`);
    process.exitCode = 1;
  }
});

export { parseArgs };
