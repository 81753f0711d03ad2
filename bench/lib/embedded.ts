/** The state most scenarios share: an embedded broker over a temporary directory. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Driver } from "../../src/index.js";

export interface EmbeddedState {
  driver: Driver;
  dir: string;
}

export async function startEmbedded(name: string): Promise<EmbeddedState> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tributary-bench-${name}-`));
  return { driver: await Driver.embedded({ dir }), dir };
}

export async function stopEmbedded(state: EmbeddedState): Promise<void> {
  await state.driver.close();
  fs.rmSync(state.dir, { recursive: true, force: true });
}
