/**
 * Metadata that cannot cross to a worker thread. A chunk bound for the pool is
 * structured-cloned, which throws on functions and symbols; inline, nothing is cloned
 * and JSON would silently drop them. So both paths refuse such an event with the same
 * reason, and where the pipeline runs never changes what is stored.
 */

const MAX_DEPTH = 64;

/** Why `metadata` cannot be handed to a pipeline, or undefined when it can. */
export function uncloneableProblem(metadata: unknown): string | undefined {
  if (typeof metadata !== "object" || metadata === null) {
    return typeof metadata === "function" || typeof metadata === "symbol" ? reason(typeof metadata, "") : undefined;
  }
  // The fast walk finds nothing in almost every event; only a hit pays for the path.
  if (!holdsUncloneable(metadata, 0)) return undefined;
  const found = pathTo(metadata, "", 0);
  return found ? reason(found.type, found.path) : undefined;
}

function reason(type: string, path: string): string {
  return `metadata holds a ${type}${path ? ` at ${path}` : ""}; metadata must be JSON-compatible (no functions or symbols)`;
}

function holdsUncloneable(value: object, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const t = typeof v;
      if (t === "function" || t === "symbol") return true;
      if (t === "object" && v !== null && holdsUncloneable(v as object, depth + 1)) return true;
    }
    return false;
  }
  for (const key in value) {
    const v: unknown = (value as Record<string, unknown>)[key];
    const t = typeof v;
    if (t === "function" || t === "symbol") return true;
    if (t === "object" && v !== null && holdsUncloneable(v as object, depth + 1)) return true;
  }
  return false;
}

function pathTo(value: unknown, path: string, depth: number): { type: string; path: string } | undefined {
  const t = typeof value;
  if (t === "function" || t === "symbol") return { type: t, path };
  if (t !== "object" || value === null || depth > MAX_DEPTH) return undefined;
  for (const key in value as object) {
    const step = Array.isArray(value) ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
    const found = pathTo((value as Record<string, unknown>)[key], path + step, depth + 1);
    if (found) return found;
  }
  return undefined;
}
