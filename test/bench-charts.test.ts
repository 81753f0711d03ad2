import { describe, expect, it } from "vitest";
import { renderSvg, summaryRows } from "../dist/bench/lib/charts.js";

/** A bar chart of `values`; each bar's aria-label carries its datum. */
const barChart = (values: Array<{ name: string; n: number }>) => ({
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  title: "Bench chart test",
  data: { values },
  mark: "bar",
  encoding: { x: { field: "name", type: "nominal" }, y: { field: "n", type: "quantitative" } },
});

const bars = (svg: string): string[] => [...svg.matchAll(/aria-roledescription="bar"/g)].map((m) => m[0]);

describe("bench charts", () => {
  it("renders a Vega-Lite bar chart to SVG with one bar per datum", async () => {
    const svg = await renderSvg(
      barChart([
        { name: "alpha", n: 1 },
        { name: "beta", n: 2 },
        { name: "gamma", n: 30000 },
      ]),
    );
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("Bench chart test");
    expect(bars(svg)).toHaveLength(3);
    // The data reach the marks: each bar is labelled with its category and value.
    expect(svg).toContain("name: gamma; n: 30000");
    expect(svg).toContain(">alpha</text>");
  });

  it("follows the data: four data points give four bars", async () => {
    const values = ["a", "b", "c", "d"].map((name, i) => ({ name, n: i + 1 }));
    expect(bars(await renderSvg(barChart(values)))).toHaveLength(4);
  });

  it("rejects a spec Vega-Lite cannot compile", async () => {
    await expect(renderSvg({ data: { values: [] }, mark: "no-such-mark" })).rejects.toThrow();
  });

  it("flattens summaries to rows with median, min and max", () => {
    const rows = summaryRows([{ params: { threads: 2 }, metrics: { eps: { median: 5, min: 4, max: 7, runs: [4, 5, 7] } } }]);
    expect(rows).toEqual([{ threads: 2, eps: 5, eps_min: 4, eps_max: 7 }]);
  });
});
