// The key scan of `produce --key-field` agrees with JSON.parse, or says it cannot tell.
import { describe, expect, it } from "vitest";
import { NOT_SCALAR, scanField, UNSURE } from "../../dist/src/cli/json-scan.js";

/** What the scan must answer for a line JSON.parse reads as `value`. */
function expected(value: unknown, field: string): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return UNSURE;
  if (!Object.hasOwn(value, field)) return undefined;
  const v = (value as Record<string, unknown>)[field];
  return typeof v === "object" && v !== null ? NOT_SCALAR : v;
}

describe("scanField", () => {
  it("reads the field of plain lines as JSON.parse does", () => {
    const cases: [string, string][] = [
      ['{"seq":1,"sensor":"sensor-001","energy":919}', "sensor"],
      ['{"sensor":"a"}', "sensor"],
      ['  { "a" : [1, {"sensor": "nested"}] ,\t"sensor" :"top" }  ', "sensor"],
      ['{"a":{"sensor":"nested only"}}', "sensor"],
      ['{"sensor":17}', "sensor"],
      ['{"sensor":-0.5e3}', "sensor"],
      ['{"sensor":true}', "sensor"],
      ['{"sensor":null}', "sensor"],
      ['{"sensor":"with \\"quotes\\" and \\u00e9"}', "sensor"],
      ['{"sensor":["x"]}', "sensor"],
      ['{"sensor":{"id":1}}', "sensor"],
      ['{"s":"}{][\\"","sensor":"after tricky string"}', "sensor"],
      ['{"sensors":"no","senso":"no"}', "sensor"],
      ["{}", "sensor"],
      ['{"é":"unicode name","sensor":"ü"}', "sensor"],
      ['{"é":"unicode name","sensor":"ü"}', "é"],
    ];
    for (const [line, field] of cases) expect(scanField(line, field), line).toEqual(expected(JSON.parse(line), field));
  });

  it("says UNSURE where only a parse can tell: not an object, an escaped name, a broken line", () => {
    for (const line of ["[1,2]", '"text"', "42", "", '{"\\u0073ensor":"escaped name"}', '{"a":1', '{"a" 1}', "{not json", '{"a":1}}', '{"a":1} x', '{"sensor":"a}']) {
      expect(scanField(line, "sensor"), line).toBe(UNSURE);
    }
    // It stops at the field: what follows is checked when the pipeline parses the line.
    expect(scanField('{"sensor":"a"', "sensor")).toBe("a");
  });

  it("agrees with JSON.parse on generated objects", () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
    const names = ["k", "key", "sensor", "a b", "é", 'q"uote', "back\\slash"];
    const scalar = (): unknown => pick<() => unknown>([() => random() * 1e6 - 5e5, () => Math.floor(random() * 100), () => pick(["", "x", 'sp "q" \\ }', "ü€", "\n\t"]), () => true, () => false, () => null])();
    const value = (depth: number): unknown =>
      depth > 2 || random() < 0.6 ? scalar() : random() < 0.5 ? Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1)) : object(depth + 1);
    const object = (depth: number): Record<string, unknown> => Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, () => [pick(names), value(depth)]));
    let read = 0;
    for (let n = 0; n < 2000; n++) {
      const o = object(0);
      const line = random() < 0.3 ? JSON.stringify(o, null, random() < 0.5 ? 1 : "\t").replace(/\n/g, " ") : JSON.stringify(o);
      for (const field of names) {
        const got = scanField(line, field);
        if (got === UNSURE) continue;
        read++;
        expect(got, `${field} of ${line}`).toEqual(expected(o, field));
      }
    }
    expect(read).toBeGreaterThan(5_000);
  });
});
