/**
 * The `tributary` command line, on commander: every command, flag and help text. The
 * commands' work lives in their own modules, loaded when the command runs (so `serve`
 * never loads the producer, and `--help` loads neither).
 */
import { Command, Option } from "commander";
import { FSYNC_POLICIES, STORAGE_DEFAULTS } from "../broker/limits.js";
import { ACK_MODES, LINE_MODES } from "./producing.js";
import { DEFAULT_BROKER_URL, integer, integerOrAuto, parseConfig, parseLimit, parseStart, repeatable, UsageError } from "./usage.js";

const ENVIRONMENT = `
Client commands connect to --broker URL: tributary://host:port,
tributarys://host:port for TLS, or nats://host:port[,host:port...] for NATS
JetStream. Environment:
  TRIBUTARY_BROKER     default of --broker (else ${DEFAULT_BROKER_URL})
  TRIBUTARY_TOKEN      bearer token sent to the broker
  TRIBUTARY_TLS_CA     PEM file of the CA to trust (e.g. a self-signed broker's)
  TRIBUTARY_TLS_CERT   PEM file of a client certificate, with TRIBUTARY_TLS_KEY
  TRIBUTARY_DEBUG=1    print the stack trace of an error

Exit codes: 0 done, 1 failed, 2 wrong command line, 130 interrupted.
Run 'tributary COMMAND --help' for a command's flags.`;

/** The full name of a command: `tributary topic create`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

const brokerOption = (): Option =>
  new Option("--broker <URL>", "the broker to talk to").env("TRIBUTARY_BROKER").default(DEFAULT_BROKER_URL);

/** Flags of the producing commands (demo, produce). */
function addPipelineOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--threads <N|auto>", "pipeline threads; 0 runs the pipeline inline on the main thread, auto measures where it is cheaper")
        .argParser(integerOrAuto(0))
        .default("auto"),
    )
    .addOption(new Option("--ordering <MODE>", "strict: each partition in push order; loose: as chunks finish").choices(["strict", "loose"]).default("strict"))
    .addOption(
      new Option("--batch-size <adaptive|N>", "events per batch, or adaptive")
        .argParser((v) => (v === "adaptive" ? v : integer(1)(v)))
        .default("adaptive"),
    );
}

/** Flags of the showcase: `demo`, and `produce` without a topic (hidden there). */
function demoOptions(hidden: boolean): Option[] {
  return [
    new Option("--events <N>", "events to produce").argParser(integer(1)).default(1_000_000),
    new Option("--partitions <N>", "partitions of the showcase topic").argParser(integer(1)).default(4),
    new Option("--dir <DATA>", "data directory of the embedded broker, kept (default: a temporary directory, removed at the end)"),
  ].map((o) => o.hideHelp(hidden));
}

/** `--validator SPEC` and `--validator-config FILE|JSON`, for each plugin kind. */
function pluginOptions(flag: string, what: string, builtins: string): Option[] {
  return [
    new Option(`--${flag} <SPEC>`, `${what}: ${builtins}, Export:./module.js, or a module`),
    new Option(`--${flag}-config <FILE|JSON>`, `config of the ${flag}, inline JSON or a JSON file`).argParser(parseConfig),
  ];
}

export function buildProgram(version: string): Command {
  const program = new Command("tributary")
    .description("tributary: parallel event producer and partition broker")
    .version(version, "-v, --version", "print the version")
    .helpOption("-h, --help", "print this help")
    .helpCommand("help [COMMAND]", "print the help of a command")
    .exitOverride()
    .addHelpText("after", ENVIRONMENT);

  program
    .command("serve")
    .summary("run the broker")
    .description("Run the broker until SIGINT or SIGTERM.")
    .requiredOption("--dir <DATA>", "data directory (required)")
    .option("--port <N>", "port to listen on; 0 picks a free one", integer(0), 9292)
    .option("--host <ADDRESS>", "address to listen on", "127.0.0.1")
    .addOption(new Option("--fsync <POLICY>", "when appends are forced to disk").choices(FSYNC_POLICIES).default(STORAGE_DEFAULTS.fsync))
    .option("--tls-cert <FILE>", "serve TLS with this certificate (PEM)")
    .option("--tls-key <FILE>", "the certificate's private key (PEM)")
    .option("--tls-ca <FILE>", "require client certificates signed by this CA (PEM)")
    .option("--auth <TOKENS.json>", "require bearer tokens listed in this file")
    .option("--insecure", "listen on a non-loopback address without TLS and client authentication")
    .addOption(new Option("--limit <NAME=N>", "change a broker limit, e.g. maxTopics=5000 (repeatable)").argParser(repeatable(parseLimit)))
    .option("--metrics-port <N>", "serve Prometheus metrics on http://HOST:N/metrics; 0 picks a free port", integer(0))
    .action(async (options) => (await import("./serve.js")).serve(options));

  const topic = program.command("topic").summary("create, list, describe and delete topics").description("Create, list, describe and delete topics.");
  const create = topic
    .command("create")
    .summary("create a topic")
    .description("Create a topic with its partitions and pipeline plugins.")
    .argument("<NAME>", "topic name: letters, digits, '.', '_', '-'")
    .option("--partitions <N>", "number of partitions (default: 1, as in the library)", integer(1))
    .option("--replicas <N>", "copies of each partition, on logs that replicate (default: 1)", integer(1));
  for (const [flag, what, builtins] of [
    ["validator", "validator", "default, json-schema"],
    ["selector", "partition selector", "round-robin, key-hash, murmur2"],
    ["serializer", "metadata serializer", "json, binary"],
  ] as const) {
    for (const o of pluginOptions(flag, what, builtins)) create.addOption(o);
  }
  create
    .option("--if-not-exists", "succeed if the topic exists (it is left as it is)")
    .option("--json", "print the topic's description as JSON")
    .addOption(brokerOption())
    .action(async (name: string, options) => (await import("./topic.js")).createTopic(name, options));
  topic
    .command("list")
    .summary("list the topics")
    .description("List the topics: partitions, replicas, events per partition, pipeline.")
    .option("--json", "one JSON line per topic")
    .addOption(brokerOption())
    .action(async (options) => (await import("./topic.js")).listTopics(options));
  topic
    .command("describe")
    .summary("describe a topic")
    .description("Describe a topic: settings, pipeline with its config, each partition.")
    .argument("<NAME>", "topic name")
    .option("--json", "the description as JSON")
    .addOption(brokerOption())
    .action(async (name: string, options) => (await import("./topic.js")).describeTopic(name, options));
  topic
    .command("delete")
    .summary("delete a topic")
    .description("Delete a topic and its events.")
    .argument("<NAME>", "topic name")
    .addOption(brokerOption())
    .action(async (name: string, options) => (await import("./topic.js")).deleteTopic(name, options));

  program
    .command("consume")
    .summary("print a topic's events as JSON lines")
    .description("Print a topic's events on stdout, one JSON line each. Ends at the end of the partitions, unless --follow.")
    .addHelpText("after", '\nEach line: {"partition":P,"id":ID,"timestamp":MS,"metadata":…,"data":"BASE64"},\nwith "key" and "headers" after "id" for an event pushed with them.')
    .argument("<TOPIC>", "topic to read")
    .addOption(
      new Option("--from <POSITION>", "where to start: earliest, latest, an event ID, or @TIME (ms since epoch or ISO 8601)")
        .argParser(parseStart)
        .default("earliest"),
    )
    .option("--follow", "keep waiting for new events until Ctrl-C")
    .option("--partition <N>", "read partition N only (repeatable; default: all)", repeatable(integer(0)))
    .option("--max <N>", "stop after N events", integer(0))
    .option("--name <NAME>", "read as consumer NAME: resume from its cursors, acknowledge what is printed")
    .addOption(brokerOption())
    .action(async (name: string, options) => (await import("./consume.js")).consume(name, options));

  const produce = program
    .command("produce")
    .summary("produce JSON lines from stdin to a topic")
    .description(
      "Produce events read from stdin, one JSON line each, through the topic's pipeline on the worker pool. " +
        "Progress goes to stderr, acks to stdout. Exits with 1 if any line failed. " +
        "Without TOPIC it runs the showcase (as tributary demo).",
    )
    .addHelpText(
      "after",
      "\nAck lines (--acks each), in the order the acks arrive:\n" +
        '  {"line":N,"partition":P,"id":ID}           acknowledged\n' +
        '  {"line":N,"error":"REASON","code":"CODE"}  failed (--acks errors prints only these)\n' +
        "Summary (--acks summary), one line at the end:\n" +
        '  {"topic":T,"lines":N,"events":N,"acknowledged":N,"failed":N,"seconds":S,\n' +
        '   "eventsPerSecond":R,"cpuMicrosPerEvent":C,"errors":[the first 10 failures]}\n' +
        "Blank lines are skipped but counted.",
    )
    .argument("[TOPIC]", "topic to produce to")
    .option("--key-field <FIELD>", "the partition key is this field of each line")
    .option("--data-field <FIELD>", "event data: base64 in this field (removed from the metadata)")
    .option("--partition <N>", "send every event to partition N", integer(0))
    .addOption(new Option("--line-mode <MODE>", "json: a line is the event's metadata; raw: a line is a string").choices(LINE_MODES).default("json"))
    .addOption(
      new Option("--acks <MODE>", "each: a line per event; errors: only failed lines; summary: one JSON line at the end")
        .choices(ACK_MODES)
        .default("each"),
    )
    .addOption(brokerOption());
  addPipelineOptions(produce);
  for (const o of demoOptions(true)) produce.addOption(o);
  produce.action(async (topicName: string | undefined, options, cmd: Command) => {
    const given = (name: string): boolean => ["cli", "env"].includes(cmd.getOptionValueSource(name) ?? "");
    if (topicName === undefined) {
      // The showcase, as `tributary produce` ran it before `demo` existed.
      return (await import("./demo.js")).demo({ ...options, broker: given("broker") ? options.broker : undefined });
    }
    for (const flag of ["events", "partitions", "dir"]) {
      if (given(flag)) throw new UsageError(`--${flag} is a flag of the showcase (tributary demo), not of produce TOPIC`);
    }
    return (await import("./produce.js")).produce(topicName, options);
  });

  const demo = program
    .command("demo")
    .summary("the showcase: produce, read back, verify, print the events/s")
    .description(
      "The showcase: produce events through the worker pool into a topic with a JSON Schema validator and the key-hash selector, " +
        "read them back, verify count and order, and print the events/s. " +
        "Without --broker it runs an embedded broker in a temporary directory, removed at the end (on Ctrl-C too).",
    );
  for (const o of demoOptions(false)) demo.addOption(o);
  addPipelineOptions(demo);
  demo
    .addOption(new Option("--broker <URL>", "a broker to use instead of an embedded one").env("TRIBUTARY_BROKER"))
    .action(async (options) => (await import("./demo.js")).demo(options));

  return program;
}
