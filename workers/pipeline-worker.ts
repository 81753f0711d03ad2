/**
 * Piscina worker entry of the producer pipeline: one task = one chunk.
 *
 * The parent passes a {@link ChunkInput} (its typed arrays arrive as this thread's own
 * clones, or as moved buffers when the parent lists them in `transferList`); the result's
 * buffers are moved back, never copied. Plugins are loaded on the first chunk of each
 * topic pipeline and cached for the life of the thread.
 */
import { move, transferableSymbol, valueSymbol } from "piscina";
import { processChunk, transferList, type ChunkInput, type ChunkOutput } from "../src/pipeline/chunk.js";

/** Runs the pipeline over one chunk; the resolved value is a {@link ChunkOutput}. */
export default async function runPipelineChunk(input: ChunkInput): Promise<ChunkOutput> {
  const output = await processChunk(input);
  // A Piscina "transferable" wrapper: Piscina posts [valueSymbol] with the buffers of
  // [transferableSymbol] as the transfer list, so the parent receives a plain ChunkOutput.
  const movable = move({ [transferableSymbol]: transferList(output), [valueSymbol]: output });
  return movable as unknown as ChunkOutput;
}
