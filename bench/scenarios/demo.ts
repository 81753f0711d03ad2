/**
 * "selftest": a tiny scenario that exercises the runner, the tables and the charts
 * without a broker. It measures JSON.stringify of one small object, repeated for a
 * fixed time.
 */
import { summaryRows } from "../lib/charts.js";
import type { Scenario } from "../lib/scenario.js";
import { fmt } from "../lib/stats.js";

/** An object of `fields` alternating number, string and boolean fields. */
function makeObject(fields: number): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (let i = 0; i < fields; i++) obj[`field${i}`] = i % 3 === 0 ? i * 1.5 : i % 3 === 1 ? `value-${i}` : i % 2 === 0;
  return obj;
}

// Both layers share the y axis; the same title in each keeps Vega-Lite from joining two.
const Y_TITLE = "Objects/s (median, min–max)";

/** Runner self-test: JSON.stringify throughput for 10 and 100 fields per object. */
export const selftest: Scenario = {
  name: "selftest",
  title: "Runner self-test: JSON.stringify throughput",
  description:
    "Serializes one object of 10 or 100 fields with JSON.stringify for a fixed time (40 ms quick, 200 ms otherwise). " +
    "It needs no broker: it checks that the benchmark runner, tables and charts work.",
  cases: () => [{ fields: 10 }, { fields: 100 }],
  async run(params, _state, ctx) {
    const obj = makeObject(Number(params.fields));
    const budgetMs = ctx.quick ? 40 : 200;
    let objects = 0;
    let chars = 0; // summed so the work cannot be optimised away; ASCII, so chars = bytes
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < budgetMs) {
      for (let i = 0; i < 100; i++) chars += JSON.stringify(obj).length;
      objects += 100;
      elapsed = performance.now() - start;
      ctx.progress(Math.min(elapsed, budgetMs), budgetMs);
    }
    const seconds = elapsed / 1000;
    return { objectsPerSec: objects / seconds, mbPerSec: chars / seconds / 1e6, nsPerObject: (seconds * 1e9) / objects };
  },
  tables: [
    {
      title: "JSON.stringify of one object",
      columns: [
        { key: "fields", heading: "Fields" },
        { key: "objectsPerSec", heading: "Objects/s", spread: true },
        { key: "mbPerSec", heading: "MB/s", digits: 1 },
        { key: "nsPerObject", heading: "ns/object" },
      ],
    },
  ],
  charts: [
    {
      name: "throughput",
      title: "JSON.stringify throughput by object size",
      // Bars are medians, whiskers the min–max over the measured runs.
      spec: (summaries) => ({
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        data: { values: summaryRows(summaries) },
        encoding: { x: { field: "fields", type: "ordinal", title: "Fields per object", axis: { labelAngle: 0 } } },
        layer: [
          { mark: "bar", encoding: { y: { field: "objectsPerSec", type: "quantitative", title: Y_TITLE } } },
          {
            mark: { type: "errorbar", ticks: true },
            encoding: { y: { field: "objectsPerSec_min", type: "quantitative", title: Y_TITLE }, y2: { field: "objectsPerSec_max" } },
          },
        ],
      }),
    },
  ],
  notes(summaries) {
    const ns = (fields: number): number | undefined => summaries.find((s) => s.params.fields === fields)?.metrics.nsPerObject?.median;
    const small = ns(10);
    const large = ns(100);
    if (small === undefined || large === undefined) return [];
    return [`An object of 100 fields takes ${fmt(large / small, 1)}× as long as one of 10 fields.`];
  },
};
