/**
 * The logger tributary writes to: any object with pino's methods (`pino()`, `console`,
 * or your own). A call is `logger.warn(message)` or `logger.warn(fields, message)`.
 */
export interface Logger {
  error(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  debug?(obj: unknown, msg?: string): void;
}

/** The default: one line per message on stderr, prefixed "tributary:". */
export const stderrLogger: Logger = {
  error: (obj, msg) => console.error(line(obj, msg)),
  warn: (obj, msg) => console.error(line(obj, msg)),
  info: (obj, msg) => console.error(line(obj, msg)),
};

function line(obj: unknown, msg: string | undefined): string {
  if (typeof obj === "string") return `tributary: ${obj}`;
  const fields = obj && typeof obj === "object" ? Object.entries(obj).map(([k, v]) => `${k}=${v instanceof Error ? v.message : String(v)}`).join(" ") : String(obj);
  return `tributary: ${msg ?? ""}${fields ? ` (${fields})` : ""}`;
}

/** Checks that `value` can be used as a logger, naming what is missing. */
export function loggerProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "logger must be an object with error, warn and info methods (pino, console, …)";
  for (const m of ["error", "warn", "info"]) {
    if (typeof (value as Record<string, unknown>)[m] !== "function") return `logger has no ${m}() method`;
  }
  return undefined;
}
