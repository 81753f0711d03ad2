/** `tributary topic create|list|describe|delete`. */
import { Driver } from "../client/driver.js";
import type { PluginSpec, TopicDescription } from "../core/types.js";
import type { PluginKind, PluginSpecInput } from "../pipeline/contracts.js";
import { storedSpec } from "../pipeline/spec.js";
import { clientOptions, UsageError } from "./usage.js";

export interface ClientFlags {
  broker: string;
}

export interface CreateOptions extends ClientFlags {
  partitions?: number;
  replicas?: number;
  validator?: string;
  validatorConfig?: unknown;
  selector?: string;
  selectorConfig?: unknown;
  serializer?: string;
  serializerConfig?: unknown;
  ifNotExists?: boolean;
  json?: boolean;
}

/** A plugin flag and its config flag as one spec for createTopic. */
function pluginInput(kind: PluginKind, flag: string, spec: string | undefined, config: unknown): PluginSpecInput | undefined {
  if (config === undefined) return spec;
  if (spec === undefined) throw new UsageError(`--${flag}-config needs --${flag} (which plugin the config is for)`);
  try {
    // A built-in name or a module.
    return storedSpec(kind, { module: spec, config });
  } catch (err) {
    // The short form "Export:./module.js", split by the library, then given its config.
    try {
      return { ...storedSpec(kind, spec), config };
    } catch {
      throw err;
    }
  }
}

export async function withDriver<T>(flags: ClientFlags, run: (driver: Driver) => Promise<T>): Promise<T> {
  const driver = await Driver.connect(flags.broker, { tributary: clientOptions() });
  try {
    return await run(driver);
  } finally {
    await driver.close();
  }
}

export async function createTopic(name: string, options: CreateOptions): Promise<void> {
  const validator = pluginInput("validator", "validator", options.validator, options.validatorConfig);
  const partitionSelector = pluginInput("partitionSelector", "selector", options.selector, options.selectorConfig);
  const serializer = pluginInput("serializer", "serializer", options.serializer, options.serializerConfig);
  await withDriver(options, async (driver) => {
    const existed = options.ifNotExists ? await exists(driver, name) : false;
    const topic = await driver.createTopic(name, {
      partitions: options.partitions,
      replicas: options.replicas,
      validator,
      partitionSelector,
      serializer,
      ifNotExists: options.ifNotExists,
    });
    if (options.json) console.log(JSON.stringify(topic));
    else console.log(`${existed ? "exists already" : "created"}: ${summary(topic)}`);
  });
}

async function exists(driver: Driver, name: string): Promise<boolean> {
  return (await driver.listTopics()).some((t) => t.name === name);
}

export async function listTopics(options: ClientFlags & { json?: boolean }): Promise<void> {
  await withDriver(options, async (driver) => {
    const topics = (await driver.listTopics()).sort((a, b) => a.name.localeCompare(b.name));
    if (options.json) {
      for (const t of topics) console.log(JSON.stringify(t));
      return;
    }
    if (topics.length === 0) {
      console.log("no topics");
      return;
    }
    const rows = topics.map((t) => [t.name, String(t.partitions), String(t.replicas), eventsPerPartition(t), pipelineLine(t)]);
    console.log(table(["NAME", "PARTITIONS", "REPLICAS", "EVENTS PER PARTITION", "PIPELINE"], rows));
  });
}

export async function describeTopic(name: string, options: ClientFlags & { json?: boolean }): Promise<void> {
  await withDriver(options, async (driver) => {
    const t = await driver.describeTopic(name);
    if (options.json) {
      console.log(JSON.stringify(t, null, 2));
      return;
    }
    const fields: [string, string][] = [
      ["name", t.name],
      ...(t.id ? [["id", t.id] as [string, string]] : []),
      ["partitions", String(t.partitions)],
      ["replicas", String(t.replicas)],
      ["created", new Date(t.createdAtMs).toISOString()],
      ["validator", pluginLabel(t.pipeline.validator, true)],
      ["selector", pluginLabel(t.pipeline.partitionSelector, true)],
      ["serializer", pluginLabel(t.pipeline.serializer, true)],
    ];
    console.log(table(undefined, fields));
    console.log();
    const sized = t.partitionInfo.some((p) => p.sizeBytes !== undefined);
    const rows = t.partitionInfo.map((p) => [String(p.partition), String(p.nextOffset), ...(sized ? [String(p.sizeBytes ?? "")] : [])]);
    console.log(table(["PARTITION", "EVENTS (NEXT ID)", ...(sized ? ["BYTES"] : [])], rows));
  });
}

export async function deleteTopic(name: string, options: ClientFlags): Promise<void> {
  await withDriver(options, async (driver) => {
    await driver.deleteTopic(name);
    console.log(`deleted ${name}`);
  });
}

/** `'t': 4 partitions, 1 replica, pipeline json-schema / key-hash / json`. */
function summary(t: TopicDescription): string {
  const s = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `'${t.name}': ${s(t.partitions, "partition")}, ${s(t.replicas, "replica")}, pipeline ${pipelineLine(t)}`;
}

function pipelineLine(t: TopicDescription): string {
  const { validator, partitionSelector, serializer } = t.pipeline;
  return [validator, partitionSelector, serializer].map((p) => pluginLabel(p, false)).join(" / ");
}

/** A built-in by its name (`tributary/validators/json-schema` → `json-schema`), a custom plugin as `Export:module`. */
function pluginLabel(spec: PluginSpec, withConfig: boolean): string {
  const builtin = /^tributary\/(?:validators|selectors|serializers)\/(.+)$/.exec(spec.module)?.[1];
  const name = builtin ?? (spec.export && spec.export !== "default" ? `${spec.export}:${spec.module}` : spec.module);
  if (spec.config === undefined) return name;
  if (!withConfig) return `${name} (+config)`;
  const config = JSON.stringify(spec.config);
  return `${name} ${config.length > 200 ? `${config.slice(0, 197)}...` : config}`;
}

/** `5, 0, 12`; past 8 partitions the total and how many there are. */
function eventsPerPartition(t: TopicDescription): string {
  const counts = t.partitionInfo.map((p) => p.nextOffset);
  if (counts.length <= 8) return counts.join(", ");
  return `${counts.reduce((a, b) => a + b, 0)} in ${counts.length} partitions`;
}

/** Columns aligned with two spaces between them; `head` above the rows when given. */
export function table(head: string[] | undefined, rows: string[][]): string {
  const all = head ? [head, ...rows] : rows;
  const widths = all[0]!.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  return all.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  ")).join("\n");
}
