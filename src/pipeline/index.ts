/** The pipeline plugin layer: contracts, spec normalization, loading and chunk processing. */
export type {
  PartitionSelector,
  PipelineSpecs,
  PluginContracts,
  PluginKind,
  PluginSpec,
  PluginSpecInput,
  Serializer,
  Validator,
} from "./contracts.js";
export { DEFAULT_PLUGINS, builtinModuleUrl, normalizeSpec, resolveBuiltinAlias } from "./spec.js";
export { instantiate, loadPipeline, loadPlugin, loadSerializer, type LoadedPipeline } from "./loader.js";
export {
  processChunk,
  processChunkWith,
  transferList,
  type ChunkFailure,
  type ChunkInput,
  type ChunkOutput,
  type ChunkPart,
} from "./chunk.js";

/** `file:` URL of the compiled Piscina worker that runs {@link processChunk} (dist/workers/pipeline-worker.js). */
export const PIPELINE_WORKER_URL: string = new URL("../../workers/pipeline-worker.js", import.meta.url).href;
