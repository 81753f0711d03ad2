/**
 * Piscina worker entry of the producer pipeline: one task = one chunk.
 *
 * The parent passes a {@link ChunkInput} (its typed arrays arrive as this thread's own
 * clones, or as moved buffers when the parent lists them in `transferList`); the result's
 * buffers are moved back, never copied. Plugins are loaded on the first chunk of each
 * topic pipeline and cached for the life of the thread.
 */
import { move, transferableSymbol, valueSymbol } from "piscina";
import { TributaryError } from "../src/core/errors.js";
import { processChunk, transferList, type ChunkInput, type ChunkOutput } from "../src/pipeline/chunk.js";
import { CODE_KEY } from "../src/pipeline/thread-pool.js";

/** Runs the pipeline over one chunk; the resolved value is a {@link ChunkOutput}. */
export default async function runPipelineChunk(input: ChunkInput): Promise<ChunkOutput> {
  let output: ChunkOutput;
  try {
    output = await processChunk(input);
  } catch (err) {
    // An error crosses back to the parent as a plain Error that keeps its message and
    // `cause` but loses its class and code: carry the code in the cause, so the parent
    // rejects with the same class the inline path throws (see ThreadPool).
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(message, { cause: { [CODE_KEY]: err instanceof TributaryError ? err.code : "UNKNOWN" } });
  }
  // A Piscina "transferable" wrapper: Piscina posts [valueSymbol] with the buffers of
  // [transferableSymbol] as the transfer list, so the parent receives a plain ChunkOutput.
  const movable = move({ [transferableSymbol]: transferList(output), [valueSymbol]: output });
  return movable as unknown as ChunkOutput;
}
