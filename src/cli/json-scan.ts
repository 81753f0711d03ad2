/**
 * Reads one top-level field of a JSON object line without parsing the line: `produce
 * --key-field` needs only the key on the main thread, while the whole line goes to the
 * pipeline as text and is parsed there, on a worker. JSON.parse of each line on the main
 * thread was the largest single cost of piping the showcase's events in (17% of the main
 * thread's time, plus the garbage of a million objects); this scan stops at the field
 * and makes no objects (about 0.15 µs a line against 0.5 µs for JSON.parse alone).
 *
 * The scan follows JSON's grammar at the top level only and answers UNSURE whenever a
 * line is not plainly an object it can read (an escaped field name, a malformed line);
 * the caller then parses the line, which gives the same answer or the parse error.
 */

/** The scanner could not tell: parse the line instead. */
export const UNSURE: unique symbol = Symbol("unsure");

/** A field that holds an object or array (no key can be made of it). */
export const NOT_SCALAR: unique symbol = Symbol("not a scalar");

export type ScanResult = string | number | boolean | null | undefined | typeof UNSURE | typeof NOT_SCALAR;

const QUOTE = 34;
const BACKSLASH = 92;

function skipSpace(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return i;
    i++;
  }
}

/** Whether the last string {@link stringEnd} passed over had an escape in it. */
let escaped = false;

/** Index after the closing quote of the string opening at `i`, or -1. */
function stringEnd(s: string, i: number): number {
  escaped = false;
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === BACKSLASH) {
      escaped = true;
      j++;
    } else if (c === QUOTE) return j + 1;
  }
  return -1;
}

/** Index after the value starting at `i` (brackets matched, strings skipped), or -1. */
function valueEnd(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return stringEnd(s, i);
  if (c === 123 /* { */ || c === 91 /* [ */) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j);
      if (d === QUOTE) {
        j = stringEnd(s, j) - 1;
        if (j < 0) return -1;
      } else if (d === 123 || d === 91) depth++;
      else if (d === 125 || d === 93) {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  // A number or literal: up to the next delimiter.
  let j = i;
  for (; j < s.length; j++) {
    const d = s.charCodeAt(j);
    if (d === 44 /* , */ || d === 125 /* } */ || d === 93 /* ] */ || d === 32 || d === 9 || d === 10 || d === 13) break;
  }
  return j === i ? -1 : j;
}

/**
 * The value of the top-level `field` of the JSON object in `line`: a string, number,
 * boolean or null; undefined when the object has no such field; NOT_SCALAR for an object
 * or array; UNSURE when the line must be parsed to tell. The scan stops at the field, so
 * of a name given twice (which JSON leaves undefined) it reads the first, and whatever
 * comes after it is checked only when the pipeline parses the line.
 */
export function scanField(line: string, field: string): ScanResult {
  let i = skipSpace(line, 0);
  if (line.charCodeAt(i) !== 123) return UNSURE;
  i = skipSpace(line, i + 1);
  if (line.charCodeAt(i) === 125) return skipSpace(line, i + 1) === line.length ? undefined : UNSURE;
  for (;;) {
    if (line.charCodeAt(i) !== QUOTE) return UNSURE;
    const nameEnd = stringEnd(line, i);
    if (nameEnd < 0) return UNSURE;
    // An escaped name (\u0073ensor) may be the field: the parse tells.
    if (escaped) return UNSURE;
    // Compared in place: no string is made for the names passed over.
    const match = nameEnd - i - 2 === field.length && line.startsWith(field, i + 1);
    i = skipSpace(line, nameEnd);
    if (line.charCodeAt(i) !== 58 /* : */) return UNSURE;
    i = skipSpace(line, i + 1);
    const end = valueEnd(line, i);
    if (end < 0) return UNSURE;
    if (match) {
      const c = line.charCodeAt(i);
      if (c === 123 || c === 91) return NOT_SCALAR;
      if (c === QUOTE && !escaped) return line.slice(i + 1, end - 1);
      const text = line.slice(i, end);
      try {
        return JSON.parse(text) as string | number | boolean | null;
      } catch {
        return UNSURE;
      }
    }
    i = skipSpace(line, end);
    const c = line.charCodeAt(i);
    if (c === 44) i = skipSpace(line, i + 1);
    else if (c === 125) return skipSpace(line, i + 1) === line.length ? undefined : UNSURE;
    else return UNSURE;
  }
}
