/**
 * Turns what users write for a plugin into the normalized {@link PluginSpec} a topic
 * stores: a module specifier that loads the same file from any worker thread (absolute
 * `file:` URL), an explicit export name and a JSON-clean config.
 */
import { createRequire } from "node:module";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidArgumentError } from "../client/errors.js";
import type { PluginKind, PluginSpec, PluginSpecInput } from "./contracts.js";

/** Built-in plugins per kind: name -> compiled module, relative to this file. */
const BUILTINS: { readonly [K in PluginKind]: Readonly<Record<string, string>> } = {
  validator: {
    default: "./builtins/default-validator.js",
    "json-schema": "./builtins/json-schema-validator.js",
  },
  partitionSelector: {
    "round-robin": "./builtins/round-robin-selector.js",
    "key-hash": "./builtins/key-hash-selector.js",
  },
  serializer: {
    json: "./builtins/json-serializer.js",
    binary: "./builtins/binary-serializer.js",
  },
};

/** Name of the built-in used when a topic leaves a plugin out. */
export const DEFAULT_PLUGINS: { readonly [K in PluginKind]: string } = {
  validator: "default",
  partitionSelector: "round-robin",
  serializer: "json",
};

/** Public specifiers of the built-ins (`tributary/validators/json-schema`, …). */
const ALIAS_PREFIX: { readonly [K in PluginKind]: string } = {
  validator: "tributary/validators/",
  partitionSelector: "tributary/selectors/",
  serializer: "tributary/serializers/",
};

const KINDS = Object.keys(BUILTINS) as PluginKind[];
const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u;
const SPEC_KEYS = new Set(["module", "export", "config"]);

/** `file:` URL of the compiled module of built-in `name` of `kind`, if there is one. */
export function builtinModuleUrl(kind: PluginKind, name: string): string | undefined {
  const path = Object.hasOwn(BUILTINS[kind], name) ? BUILTINS[kind][name] : undefined;
  return path === undefined ? undefined : new URL(path, import.meta.url).href;
}

/**
 * Resolves a public alias (`tributary/serializers/binary`) to the built-in's `file:` URL.
 * Returns undefined for any other specifier. The loader uses it too, so a topic that
 * stored an alias loads this installation's built-in.
 */
export function resolveBuiltinAlias(specifier: string): { kind: PluginKind; url: string } | undefined {
  for (const kind of KINDS) {
    if (!specifier.startsWith(ALIAS_PREFIX[kind])) continue;
    const url = builtinModuleUrl(kind, specifier.slice(ALIAS_PREFIX[kind].length));
    if (url !== undefined) return { kind, url };
  }
  return undefined;
}

/**
 * Normalizes one plugin reference of a topic.
 *
 * - `undefined`: the kind's default built-in (`default`, `round-robin`, `json`).
 * - A built-in name (`"json-schema"`, `"key-hash"`, `"binary"`, …) or public alias
 *   (`"tributary/validators/json-schema"`): the built-in's compiled module.
 * - `"ExportName:specifier"`: that export of that module. A string that is a module
 *   alone (`"./energy.js"`, `"file:///x.js"`, `"C:\\x.js"`) means its default export.
 * - `{ module, export?, config? }`: `module` may be any of the above forms too.
 *
 * Relative and absolute paths become `file:` URLs (relative ones against `baseDir`);
 * bare package names are resolved from `baseDir` when Node can, else kept as written.
 *
 * @throws InvalidArgumentError naming the kind and the offending value
 */
export function normalizeSpec(
  kind: PluginKind,
  input: PluginSpecInput | undefined,
  baseDir: string = process.cwd(),
): PluginSpec {
  if (!Object.hasOwn(BUILTINS, kind)) {
    throw new InvalidArgumentError(`unknown plugin kind ${JSON.stringify(kind)} (valid: ${KINDS.join(", ")})`);
  }
  if (input === undefined) input = DEFAULT_PLUGINS[kind];
  if (typeof input === "string") return normalizeString(kind, input, baseDir);
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError(
      `${kind}: expected a built-in name, "Export:module" or { module, export?, config }, got ${describe(input)}`,
    );
  }
  for (const key of Object.keys(input)) {
    if (!SPEC_KEYS.has(key)) {
      throw new InvalidArgumentError(`${kind}: unknown field ${JSON.stringify(key)} (valid: module, export, config)`);
    }
  }
  const { module, export: exportName, config } = input;
  if (typeof module !== "string" || module.trim() === "") {
    throw new InvalidArgumentError(`${kind}: "module" must be a non-empty string, got ${describe(module)}`);
  }
  if (exportName !== undefined && (typeof exportName !== "string" || !IDENTIFIER.test(exportName))) {
    throw new InvalidArgumentError(`${kind}: "export" must be a JavaScript identifier, got ${describe(exportName)}`);
  }
  const builtin = builtinUrl(kind, module);
  return build(kind, builtin ?? resolveModule(kind, module, baseDir), exportName, config);
}

function normalizeString(kind: PluginKind, text: string, baseDir: string): PluginSpec {
  if (text.trim() === "") throw new InvalidArgumentError(`${kind}: plugin reference is an empty string`);
  const builtin = builtinUrl(kind, text);
  if (builtin !== undefined) return build(kind, builtin, undefined, undefined);
  const [exportName, module] = splitShortForm(text);
  if (exportName === undefined && !looksLikeModule(module)) {
    throw new InvalidArgumentError(
      `unknown ${kind} ${JSON.stringify(text)}: built-in ${kind}s are ${validNames(kind)}; ` +
        `use "ExportName:./module.js" or { module, export } for your own`,
    );
  }
  if (exportName !== undefined && !IDENTIFIER.test(exportName)) {
    throw new InvalidArgumentError(`${kind}: export name ${JSON.stringify(exportName)} in ${JSON.stringify(text)} is not an identifier`);
  }
  if (module === "") throw new InvalidArgumentError(`${kind}: no module after ":" in ${JSON.stringify(text)}`);
  return build(kind, builtinUrl(kind, module) ?? resolveModule(kind, module, baseDir), exportName, undefined);
}

/**
 * Splits `"Export:module"` at the first colon, except where that colon belongs to the
 * module itself: a URL (`file:///x.js`, the colon followed by `//`) or a Windows drive
 * (`C:\x.js`, `C:/x.js`).
 */
function splitShortForm(text: string): [exportName: string | undefined, module: string] {
  const colon = text.indexOf(":");
  if (colon < 0) return [undefined, text];
  const rest = text.slice(colon + 1);
  if (rest.startsWith("//")) return [undefined, text];
  if (colon === 1 && /^[A-Za-z]:[\\/]/.test(text)) return [undefined, text];
  return [text.slice(0, colon), rest];
}

function looksLikeModule(text: string): boolean {
  return /^\.{1,2}[\\/]/.test(text) || isAbsolute(text) || /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) || /^[A-Za-z]:[\\/]/.test(text);
}

/** A built-in name or alias used for `kind`; throws when it names another kind's built-in. */
function builtinUrl(kind: PluginKind, module: string): string | undefined {
  const url = builtinModuleUrl(kind, module);
  if (url !== undefined) return url;
  const alias = resolveBuiltinAlias(module);
  if (alias !== undefined && alias.kind !== kind) {
    throw new InvalidArgumentError(`${kind}: ${JSON.stringify(module)} is a built-in ${alias.kind}, not a ${kind}`);
  }
  return alias?.url;
}

function resolveModule(kind: PluginKind, module: string, baseDir: string): string {
  if (/^[A-Za-z]:[\\/]/.test(module) || /^\.{1,2}([\\/]|$)/.test(module) || isAbsolute(module)) {
    return pathToFileURL(resolve(baseDir, module)).href;
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(module)) {
    // Already a URL (file:, data:, node:); check it parses so the error comes now.
    try {
      return new URL(module).href;
    } catch {
      throw new InvalidArgumentError(`${kind}: module ${JSON.stringify(module)} is not a valid URL`);
    }
  }
  for (const other of KINDS) {
    if (other !== kind && builtinModuleUrl(other, module) !== undefined) {
      throw new InvalidArgumentError(
        `${kind}: ${JSON.stringify(module)} is a built-in ${other}, not a ${kind} (built-in ${kind}s: ${validNames(kind)})`,
      );
    }
  }
  try {
    return pathToFileURL(createRequire(resolve(baseDir) + "/").resolve(module)).href;
  } catch {
    // ESM-only packages (no "require" condition) do not resolve this way; workers
    // import the bare name and Node resolves it from the library's location.
    return module;
  }
}

function build(kind: PluginKind, module: string, exportName: string | undefined, config: unknown): PluginSpec {
  const spec: PluginSpec = { module, export: exportName ?? "default" };
  if (config !== undefined) spec.config = jsonClean(kind, config);
  if (module === builtinModuleUrl("validator", "json-schema")) checkSchemaConfig(spec.config);
  return spec;
}

/**
 * The config as the broker will store it and workers will receive it: the JSON round
 * trip, so inline and worker pipelines see exactly the same value.
 */
function jsonClean(kind: PluginKind, config: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(config);
  } catch (err) {
    throw new InvalidArgumentError(`${kind}: config is not JSON-serializable: ${(err as Error).message}`);
  }
  if (text === undefined) throw new InvalidArgumentError(`${kind}: config of type ${typeof config} is not JSON-serializable`);
  return JSON.parse(text);
}

/** Fails at topic creation rather than in every worker. */
function checkSchemaConfig(config: unknown): void {
  const schema = (config as { schema?: unknown } | undefined)?.schema;
  if (typeof schema !== "boolean" && (typeof schema !== "object" || schema === null || Array.isArray(schema))) {
    throw new InvalidArgumentError('validator: json-schema needs config { schema: <JSON Schema object> }');
  }
}

function validNames(kind: PluginKind): string {
  return Object.keys(BUILTINS[kind]).map((n) => JSON.stringify(n)).join(", ");
}

function describe(value: unknown): string {
  if (value === null || typeof value !== "object") return typeof value === "string" ? JSON.stringify(value) : String(value);
  return Array.isArray(value) ? "an array" : "an object";
}
