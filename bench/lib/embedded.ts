/** The state most scenarios share: an embedded broker over a temporary directory. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Driver } from "../../src/index.js";

export interface EmbeddedState {
  driver: Driver;
  dir: string;
}

/**
 * `TRIBUTARY_BENCH_FSYNC` overrides the broker's fsync policy, so that a comparison with an
 * older commit (`scripts/compare-commits.mjs`) can hold the policy equal.
 */
export async function startEmbedded(name: string): Promise<EmbeddedState> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tributary-bench-${name}-`));
  const fsync = process.env.TRIBUTARY_BENCH_FSYNC as "always" | "interval" | "never" | undefined;
  return { driver: await Driver.embedded({ dir, fsync }), dir };
}

export async function stopEmbedded(state: EmbeddedState): Promise<void> {
  await state.driver.close();
  fs.rmSync(state.dir, { recursive: true, force: true });
}
