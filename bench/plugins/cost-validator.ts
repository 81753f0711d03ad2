/**
 * Benchmark validator: spins for `metadata.costUs` microseconds, standing in for a
 * CPU-heavy validation (JSON Schema on big events, signature checks, enrichment).
 * The cost travels with each event so a scenario can shape it (uniform, heavy-tailed).
 */
export class CostValidator {
  constructor(_config?: unknown) {}

  validate(metadata: unknown): void {
    const us = (metadata as { costUs?: number }).costUs ?? 0;
    if (us <= 0) return;
    const end = performance.now() + us / 1000;
    while (performance.now() < end) {
      // busy: the point is to burn CPU like real validation does
    }
  }
}

export default CostValidator;

/** Module specifier of this plugin, for topic specs. */
export const COST_VALIDATOR = { module: new URL(import.meta.url).href, export: "CostValidator" };
