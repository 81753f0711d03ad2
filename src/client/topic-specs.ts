/** Converts pipeline plugin specs between their API form and their wire/storage form. */
import { normalizeSpec } from "../pipeline/spec.js";
import { loadSerializer } from "../pipeline/loader.js";
import type { PipelineSpecs, PluginSpec, PluginSpecInput } from "../pipeline/contracts.js";
import type { Serializer } from "../pipeline/contracts.js";
import type { PluginSpecMsg, TopicInfo } from "../wire/protocol.js";

type Kind = "validator" | "partitionSelector" | "serializer";

/** Normalizes an API spec (built-in name, "export:module" or object) into its wire form. */
export function toPluginSpecMsg(kind: Kind, input: PluginSpecInput | undefined): PluginSpecMsg {
  const spec = normalizeSpec(kind, input);
  return { module: spec.module, exportName: spec.export ?? "", configJson: spec.config === undefined ? "" : JSON.stringify(spec.config) };
}

function fromMsg(kind: Kind, msg: PluginSpecMsg | undefined): PluginSpec {
  if (!msg || !msg.module) return normalizeSpec(kind, undefined);
  const spec: PluginSpec = { module: msg.module };
  if (msg.exportName) spec.export = msg.exportName;
  if (msg.configJson) spec.config = JSON.parse(msg.configJson);
  return spec;
}

/** The pipeline a topic stores, as the loader takes it. */
export function topicPipeline(info: TopicInfo): PipelineSpecs {
  return {
    validator: fromMsg("validator", info.validator),
    partitionSelector: fromMsg("partitionSelector", info.partitionSelector),
    serializer: fromMsg("serializer", info.serializer),
  };
}

/** Loads the serializer a topic stores, to decode metadata when consuming. */
export function loadTopicSerializer(info: TopicInfo): Promise<Serializer> {
  return loadSerializer(topicPipeline(info).serializer);
}
