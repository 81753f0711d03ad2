/** The pipeline layer: plugin contracts, specs, loading, chunk processing and where chunks run. */
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
export {
  DEFAULT_PLUGINS,
  builtinModuleUrl,
  defaultPluginPolicy,
  normalizeSpec,
  resolveBuiltinAlias,
  resolveSpec,
  storedSpec,
  type PluginPolicy,
} from "./spec.js";
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
export { uncloneableProblem } from "./metadata-check.js";
export { ThreadPool, PIPELINE_WORKER_URL, type ThreadPoolSize } from "./thread-pool.js";
export type { Placement } from "./auto-placement.js";
