/**
 * What the broker accepts as a plugin module in a topic definition. Every producer and
 * `tributary consume` of a topic loads its plugins, so a specifier is code that runs on
 * other machines: `data:` or `http(s):` modules would let anyone who can create a topic
 * run code there. The broker keeps only what the clients' allow-list can load (built-in
 * names, package specifiers, paths and `file:` URLs); the clients check again when they
 * load, since a topic may come from elsewhere.
 */
import type { PluginSpecMsg } from "../protocol/protocol.js";

/** A URL scheme: two characters at least, so a Windows drive letter ("C:\…") is not one. */
const SCHEME = /^([a-z][a-z0-9+.-]+):/i;
// Not node: a Node.js built-in module (node:child_process) is never a plugin.
const ALLOWED_SCHEMES = new Set(["file"]);

/** Why a plugin spec is refused, or undefined. */
export function pluginSpecProblem(kind: string, spec: PluginSpecMsg | undefined): string | undefined {
  if (!spec?.module) return undefined;
  const scheme = SCHEME.exec(spec.module.trim())?.[1]?.toLowerCase();
  if (scheme && !ALLOWED_SCHEMES.has(scheme)) {
    return `${kind} module '${spec.module.slice(0, 60)}' uses the '${scheme}:' scheme; plugins load from package names, paths and file: URLs only`;
  }
  if (spec.configJson) {
    try {
      JSON.parse(spec.configJson);
    } catch {
      return `${kind} config is not valid JSON`;
    }
  }
  return undefined;
}
