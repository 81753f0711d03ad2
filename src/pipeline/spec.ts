/**
 * Plugin references: what users write, how a topic stores it, and what a thread loads.
 *
 * - **Stored form** ({@link storedSpec}): what `createTopic` writes to the log. Built-ins
 *   by their public alias (`tributary/validators/json-schema`), custom plugins exactly as
 *   written (`./plugins/energy.js`, `my-package/validator`, `/abs/path.js`), so a topic
 *   created from one folder works from any other install.
 * - **Runnable form** ({@link resolveSpec}, {@link normalizeSpec}): what threads
 *   `import()`. Built-ins become this install's compiled module, relative paths resolve
 *   against the producing side's base directory, package names resolve from there.
 *
 * A topic's specs come from the log, and anyone who could create a topic could put a
 * module there. So plugins load only from an allow-list: built-in names, installed
 * packages (not Node's own modules), and files under directories the producing
 * application names (default: its working directory). `data:`, `http(s):`, `node:` and
 * every other scheme are refused, at creation and again at load time.
 */
import { createRequire, isBuiltin } from "node:module";
import { realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe } from "../core/describe.js";
import { InvalidArgumentError } from "../core/errors.js";
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
    murmur2: "./builtins/murmur2-selector.js",
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

/** Public specifiers of the built-ins (`tributary/validators/json-schema`, …): their stored form. */
const ALIAS_PREFIX: { readonly [K in PluginKind]: string } = {
  validator: "tributary/validators/",
  partitionSelector: "tributary/selectors/",
  serializer: "tributary/serializers/",
};

const KINDS = Object.keys(BUILTINS) as PluginKind[];
const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u;
const SPEC_KEYS = new Set(["module", "export", "config"]);
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;
const RELATIVE = /^\.{1,2}([\\/]|$)/;
/** Where earlier versions stored built-ins: the absolute URL of the creating install's file. */
const LEGACY_BUILTIN = /\/dist\/src\/pipeline\/builtins\/([a-z-]+)\.js$/;

/** Where plugins may come from, on the producing (or consuming) side. */
export interface PluginPolicy {
  /** Directory that relative plugin paths resolve against. Default: `process.cwd()`. */
  baseDir: string;
  /** Directories whose files may be loaded as plugins. Default: `[baseDir]`. */
  allowDirs: readonly string[];
}

/** The policy of an application that names nothing: its working directory. */
export function defaultPluginPolicy(options: { baseDir?: string; allowDirs?: readonly string[] } = {}): PluginPolicy {
  const baseDir = resolve(options.baseDir ?? process.cwd());
  const allowDirs = (options.allowDirs ?? [baseDir]).map((d) => resolve(baseDir, d));
  return { baseDir, allowDirs };
}

/** `file:` URL of the compiled module of built-in `name` of `kind`, if there is one. */
export function builtinModuleUrl(kind: PluginKind, name: string): string | undefined {
  const path = Object.hasOwn(BUILTINS[kind], name) ? BUILTINS[kind][name] : undefined;
  return path === undefined ? undefined : new URL(path, import.meta.url).href;
}

/**
 * Resolves a public alias (`tributary/serializers/binary`) to the built-in's `file:` URL.
 * Returns undefined for any other specifier.
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
 * The form a topic stores: built-ins by alias, custom modules as written, an explicit
 * export name, a JSON-clean config.
 *
 * - `undefined`: the kind's default built-in (`default`, `round-robin`, `json`).
 * - A built-in name (`"json-schema"`, `"key-hash"`, `"binary"`, …) or public alias.
 * - `"ExportName:specifier"`: that export of that module. A string that is a module
 *   alone (`"./energy.js"`, `"file:///x.js"`, `"C:\\x.js"`) means its default export.
 * - `{ module, export?, config? }`: `module` may be any of the above forms too.
 *
 * @throws InvalidArgumentError naming the kind and the offending value
 */
export function storedSpec(kind: PluginKind, input: PluginSpecInput | undefined): PluginSpec {
  if (!Object.hasOwn(BUILTINS, kind)) {
    throw new InvalidArgumentError(`unknown plugin kind ${JSON.stringify(kind)} (valid: ${KINDS.join(", ")})`);
  }
  if (input === undefined) input = DEFAULT_PLUGINS[kind];
  if (typeof input === "string") return parseString(kind, input);
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError(`${kind}: expected a built-in name, "Export:module" or { module, export?, config }, got ${describe(input)}`);
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
  return build(kind, builtinAlias(kind, module) ?? checkedModule(kind, module), exportName, config);
}

/**
 * The runnable form of a reference (no allow-list check: see {@link resolveSpec}).
 * Relative and absolute paths become `file:` URLs (relative ones against `baseDir`);
 * bare package names are resolved from `baseDir` when Node can, else kept as written.
 */
export function normalizeSpec(kind: PluginKind, input: PluginSpecInput | undefined, baseDir: string = process.cwd()): PluginSpec {
  const stored = storedSpec(kind, input);
  return { ...stored, module: runnableModule(stored.module, baseDir) };
}

/**
 * The runnable form of a spec a topic stores, after checking it against the policy: a
 * file outside the allowed directories is refused. A spec without a module (a topic
 * created over the raw wire) means the kind's default built-in.
 *
 * @throws InvalidArgumentError naming the kind, the module and the rule it breaks
 */
export function resolveSpec(kind: PluginKind, spec: PluginSpec, policy: PluginPolicy): PluginSpec {
  const stored = storedSpec(kind, spec.module ? { module: legacyBuiltin(kind, spec.module) ?? spec.module, export: spec.export, config: spec.config } : undefined);
  const module = runnableModule(stored.module, policy.baseDir);
  if (module.startsWith("file:") && resolveBuiltinAlias(stored.module) === undefined && !isPackageSpecifier(stored.module)) {
    const file = fileURLToPath(module);
    if (!policy.allowDirs.some((dir) => isInside(file, dir))) {
      throw new InvalidArgumentError(
        `${kind}: refusing to load ${JSON.stringify(stored.module)}: ${file} is outside the plugin directories ` +
          `(${policy.allowDirs.join(", ")}); name its directory in the driver's plugins.allowDirs option`,
      );
    }
  }
  return { ...stored, module };
}

/**
 * Whether a runnable specifier may be imported at all: a `file:` URL, a built-in alias or
 * an installed package. The loader checks it again on every thread, so a spec that
 * bypassed {@link resolveSpec} still cannot load code from a URL or from Node itself.
 */
export function loadableProblem(specifier: string): string | undefined {
  if (specifier.startsWith("file:")) return undefined;
  if (resolveBuiltinAlias(specifier) !== undefined) return undefined;
  if (isPackageSpecifier(specifier)) return undefined;
  const scheme = SCHEME.exec(specifier)?.[1];
  if (isBuiltin(specifier)) return `${JSON.stringify(specifier)} is a Node.js built-in module, not a plugin`;
  return scheme
    ? `modules from ${scheme}: URLs are never loaded; plugins load from built-in names, installed packages and files under the plugin directories`
    : `${JSON.stringify(specifier)} is not a module specifier tributary loads`;
}

function parseString(kind: PluginKind, text: string): PluginSpec {
  if (text.trim() === "") throw new InvalidArgumentError(`${kind}: plugin reference is an empty string`);
  const builtin = builtinAlias(kind, text);
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
  return build(kind, builtinAlias(kind, module) ?? checkedModule(kind, module), exportName, undefined);
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
  if (colon === 1 && WINDOWS_DRIVE.test(text)) return [undefined, text];
  return [text.slice(0, colon), rest];
}

function looksLikeModule(text: string): boolean {
  return RELATIVE.test(text) || isAbsolute(text) || /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) || WINDOWS_DRIVE.test(text);
}

const isPath = (module: string): boolean => WINDOWS_DRIVE.test(module) || RELATIVE.test(module) || isAbsolute(module);

/** A bare package specifier (`ajv`, `@scope/pkg/sub`), other than one of Node's own modules. */
function isPackageSpecifier(module: string): boolean {
  return !isPath(module) && !SCHEME.test(module) && !isBuiltin(module);
}

/** The stored alias of a built-in name or alias used for `kind`; throws when it names another kind's built-in. */
function builtinAlias(kind: PluginKind, module: string): string | undefined {
  if (builtinModuleUrl(kind, module) !== undefined) return ALIAS_PREFIX[kind] + module;
  const alias = resolveBuiltinAlias(module);
  if (alias !== undefined && alias.kind !== kind) {
    throw new InvalidArgumentError(`${kind}: ${JSON.stringify(module)} is a built-in ${alias.kind}, not a ${kind}`);
  }
  return alias === undefined ? undefined : module;
}

/** A built-in stored by an earlier version as the absolute URL of its file. */
function legacyBuiltin(kind: PluginKind, module: string): string | undefined {
  const file = LEGACY_BUILTIN.exec(module)?.[1];
  if (file === undefined || !module.startsWith("file:")) return undefined;
  const name = Object.keys(BUILTINS[kind]).find((n) => BUILTINS[kind][n] === `./builtins/${file}.js`);
  return name === undefined ? undefined : ALIAS_PREFIX[kind] + name;
}

/** A custom module as stored: refused when it is a URL other than `file:`, or one of Node's modules. */
function checkedModule(kind: PluginKind, module: string): string {
  for (const other of KINDS) {
    if (other !== kind && builtinModuleUrl(other, module) !== undefined) {
      throw new InvalidArgumentError(
        `${kind}: ${JSON.stringify(module)} is a built-in ${other}, not a ${kind} (built-in ${kind}s: ${validNames(kind)})`,
      );
    }
  }
  if (isPath(module)) return module;
  const scheme = SCHEME.exec(module)?.[1];
  if (scheme !== undefined && scheme.toLowerCase() !== "file") {
    throw new InvalidArgumentError(`${kind}: module ${JSON.stringify(module.slice(0, 60))}: ${loadableProblem(module)}`);
  }
  if (scheme !== undefined) {
    try {
      return new URL(module).href;
    } catch {
      throw new InvalidArgumentError(`${kind}: module ${JSON.stringify(module)} is not a valid URL`);
    }
  }
  if (isBuiltin(module)) throw new InvalidArgumentError(`${kind}: ${loadableProblem(module)}`);
  return module;
}

/** Stored module → what a thread imports. */
function runnableModule(module: string, baseDir: string): string {
  const alias = resolveBuiltinAlias(module);
  if (alias !== undefined) return alias.url;
  if (isPath(module)) return pathToFileURL(resolve(baseDir, module)).href;
  if (module.startsWith("file:")) return module;
  try {
    return pathToFileURL(createRequire(resolve(baseDir) + "/").resolve(module)).href;
  } catch {
    // ESM-only packages (no "require" condition) do not resolve this way; workers
    // import the bare name and Node resolves it from the library's location.
    return module;
  }
}

/** True when `file` lies inside `dir` (after resolving symbolic links where they exist). */
function isInside(file: string, dir: string): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync.native(p);
    } catch {
      return resolve(p);
    }
  };
  const rel = relative(real(dir), real(file));
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
}

function build(kind: PluginKind, module: string, exportName: string | undefined, config: unknown): PluginSpec {
  const spec: PluginSpec = { module, export: exportName ?? "default" };
  if (config !== undefined) spec.config = jsonClean(kind, config);
  if (module === ALIAS_PREFIX.validator + "json-schema") checkSchemaConfig(spec.config);
  return spec;
}

/**
 * The config as the log will store it and workers will receive it: the JSON round
 * trip, so inline and worker pipelines see exactly the same value.
 */
function jsonClean(kind: PluginKind, config: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(config);
  } catch (err) {
    throw new InvalidArgumentError(`${kind}: config is not JSON-serializable: ${(err as Error).message}`, { cause: err });
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
