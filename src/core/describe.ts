/**
 * Renders any value briefly for an error message, and never throws: strings quoted,
 * plain objects and arrays as (truncated) JSON, class instances by their class name.
 */
export function describe(value: unknown, maxLength = 80): string {
  switch (typeof value) {
    case "string":
      return truncate(JSON.stringify(value), maxLength);
    case "bigint":
      return `${value}n`;
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    case "undefined":
      return "undefined";
    case "object":
      break;
    default:
      return String(value);
  }
  if (value === null) return "null";
  const proto: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    return `an object (${(value as object).constructor?.name || "anonymous class"})`;
  }
  try {
    const json = JSON.stringify(value);
    return json === undefined ? Object.prototype.toString.call(value) : truncate(json, maxLength);
  } catch {
    return Array.isArray(value) ? "an array" : "an object";
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** The kind of a value, for "X is <kind>, not …" messages: "a string", "an array", "an object (Map)", "null". */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `an object (${(value as object).constructor?.name ?? "Object"})`;
  return typeof value === "undefined" ? "undefined" : `a ${typeof value}`;
}
