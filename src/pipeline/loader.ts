/**
 * Loads plugin instances from normalized specs. Runs in every pipeline worker thread
 * and on the main thread (inline mode, consumers); each thread keeps its own cache, so
 * a schema is compiled once per thread, not once per chunk.
 */
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidArgumentError } from "../core/errors.js";
import type { PipelineSpecs, PluginContracts, PluginKind, PluginSpec, Serializer } from "./contracts.js";
import { loadableProblem, resolveBuiltinAlias } from "./spec.js";

/** The three plugin instances of a topic's pipeline, ready to run. */
export interface LoadedPipeline {
  validator: PluginContracts["validator"];
  partitionSelector: PluginContracts["partitionSelector"];
  serializer: PluginContracts["serializer"];
}

/** Methods an instance must have to count as a plugin of each kind. */
const REQUIRED_METHODS: { readonly [K in PluginKind]: readonly string[] } = {
  validator: ["validate"],
  partitionSelector: ["selectPartitionFor"],
  serializer: ["serialize", "deserialize"],
};

// Promises, not instances: concurrent chunks arriving before the first load finishes
// share one load. Keyed by the JSON of the specs, which is what the broker stores.
const pipelines = new Map<string, Promise<LoadedPipeline>>();
const serializers = new Map<string, Promise<Serializer>>();

/**
 * Loads (once per thread and per distinct specs) the pipeline of a topic.
 * @throws InvalidArgumentError when a module cannot be imported, lacks the export, or the
 *   export does not build an object with the kind's methods; a failed load is not cached
 */
export function loadPipeline(specs: PipelineSpecs): Promise<LoadedPipeline> {
  return cached(pipelines, specs, async () => {
    const [validator, partitionSelector, serializer] = await Promise.all([
      loadPlugin("validator", specs.validator),
      loadPlugin("partitionSelector", specs.partitionSelector),
      loadPlugin("serializer", specs.serializer),
    ]);
    return { validator, partitionSelector, serializer };
  });
}

/** Loads (once per thread and per distinct spec) a serializer, for consumers. */
export function loadSerializer(spec: PluginSpec): Promise<Serializer> {
  return cached(serializers, spec, () => loadPlugin("serializer", spec));
}

/**
 * Imports `spec.module`, takes `spec.export` (default `"default"`) and builds an instance
 * with `spec.config`. Not cached: every call builds a fresh instance.
 */
export async function loadPlugin<K extends PluginKind>(kind: K, spec: PluginSpec): Promise<PluginContracts[K]> {
  if (typeof spec?.module !== "string" || spec.module === "") {
    throw new InvalidArgumentError(`${kind}: spec has no module (got ${safeJson(spec)})`);
  }
  const exportName = spec.export ?? "default";
  const where = `${kind} "${exportName}" from "${spec.module}"`;
  const specifier = resolveBuiltinAlias(spec.module)?.url ?? (isAbsolute(spec.module) ? pathToFileURL(spec.module).href : spec.module);
  const refused = loadableProblem(specifier);
  if (refused !== undefined) throw new InvalidArgumentError(`${where}: ${refused}`);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidArgumentError(`${where}: cannot import the module: ${messageOf(err)}`, { cause: err });
  }
  const exported = pickExport(namespace, exportName);
  if (typeof exported !== "function") {
    const names = Object.keys(namespace).sort().join(", ") || "none";
    throw new InvalidArgumentError(
      exported === undefined
        ? `${where}: the module has no export "${exportName}" (exports: ${names})`
        : `${where}: the export is a ${typeof exported}, not a class or factory function`,
    );
  }
  let instance: unknown;
  try {
    instance = await instantiate(exported, spec.config);
  } catch (err) {
    throw new InvalidArgumentError(`${where}: creating the instance failed: ${messageOf(err)}`, { cause: err });
  }
  for (const method of REQUIRED_METHODS[kind]) {
    if (typeof (instance as Record<string, unknown> | null)?.[method] !== "function") {
      throw new InvalidArgumentError(`${where}: the instance has no ${method}() method, so it is not a ${kind}`);
    }
  }
  return instance as PluginContracts[K];
}

/**
 * Builds an instance from a class (`new X(config)`) or a factory (`X(config)`, possibly
 * async). Native classes are told apart by their source text; ES5-style constructors by
 * methods on their prototype. Anything else is called as a factory.
 */
export function instantiate(fn: Function, config: unknown): unknown {
  if (isClass(fn)) return new (fn as new (config: unknown) => unknown)(config);
  return (fn as (config: unknown) => unknown)(config);
}

function isClass(fn: Function): boolean {
  if (/^class\b/.test(Function.prototype.toString.call(fn))) return true;
  const proto: unknown = fn.prototype;
  return typeof proto === "object" && proto !== null && Object.getOwnPropertyNames(proto).length > 1;
}

/** Named export, or — for CommonJS modules whose exports Node could not list — a property of `default`. */
function pickExport(namespace: Record<string, unknown>, name: string): unknown {
  if (namespace[name] !== undefined) return namespace[name];
  const fallback = namespace.default;
  if (name !== "default" && fallback !== null && (typeof fallback === "object" || typeof fallback === "function")) {
    return (fallback as Record<string, unknown>)[name];
  }
  return undefined;
}

function cached<T>(cache: Map<string, Promise<T>>, spec: unknown, load: () => Promise<T>): Promise<T> {
  const key = JSON.stringify(spec);
  let promise = cache.get(key);
  if (promise === undefined) {
    promise = load();
    cache.set(key, promise);
    // A failed load is retried next time (the module may be built or fixed meanwhile).
    promise.catch(() => {
      if (cache.get(key) === promise) cache.delete(key);
    });
  }
  return promise;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
