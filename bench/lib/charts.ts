/**
 * Charts: Vega-Lite spec → Vega spec → SVG string, headless. The "none" renderer plus
 * view.toSVG() needs no canvas package; text widths are estimated, which is fine for
 * axis and title layout.
 */
import { parse, View } from "vega";
import { compile, type Config, type TopLevelSpec } from "vega-lite";
import type { CaseSummary, ChartSpec } from "./scenario.js";

/** Readable defaults for every chart; a spec's own `config` overrides them. */
export const chartConfig: Config = {
  font: "Helvetica, Arial, sans-serif",
  background: "white",
  padding: 12,
  // Fixed width also for band (bar) scales, so a chart with 2 bars is not 40 px wide.
  view: { continuousWidth: 640, continuousHeight: 320, discreteWidth: 640, stroke: null },
  title: { fontSize: 16, subtitleFontSize: 13, anchor: "start", offset: 12 },
  axis: { labelFontSize: 12, titleFontSize: 13, titlePadding: 8, gridColor: "#e6e6e6" },
  legend: { labelFontSize: 12, titleFontSize: 13 },
  header: { labelFontSize: 12, titleFontSize: 13 },
};

/** Renders a Vega-Lite (v5) top-level spec with inline data to an SVG document string. */
export async function renderSvg(vegaLiteSpec: Record<string, unknown>): Promise<string> {
  // The contract types specs loosely so scenarios need no vega-lite types; compile
  // validates them at run time and throws on nonsense.
  const { spec } = compile(vegaLiteSpec as unknown as TopLevelSpec, { config: chartConfig });
  const view = new View(parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Builds a scenario chart's spec from the summaries and renders it; the chart's title is used when the spec has none. */
export async function renderChart(chart: ChartSpec, summaries: CaseSummary[]): Promise<string> {
  const spec = chart.spec(summaries);
  return renderSvg("title" in spec ? spec : { title: chart.title, ...spec });
}

/**
 * Flattens summaries into Vega-Lite data rows: the case parameters, then per metric
 * `<metric>` (median), `<metric>_min` and `<metric>_max`. Use as `data: { values: summaryRows(s) }`.
 */
export function summaryRows(summaries: CaseSummary[]): Array<Record<string, string | number>> {
  return summaries.map((s) => {
    const row: Record<string, string | number> = { ...s.params };
    for (const [key, m] of Object.entries(s.metrics)) {
      row[key] = m.median;
      row[`${key}_min`] = m.min;
      row[`${key}_max`] = m.max;
    }
    return row;
  });
}
