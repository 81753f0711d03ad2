/** Pipeline plugin specs and topic descriptions between their API form and the tributary wire form. */
import type { PipelineSpecs, PluginSpec, TopicDescription } from "../../core/types.js";
import type { PluginSpecMsg, TopicInfo } from "../../protocol/protocol.js";

export function toPluginSpecMsg(spec: PluginSpec): PluginSpecMsg {
  return { module: spec.module, exportName: spec.export ?? "", configJson: spec.config === undefined ? "" : JSON.stringify(spec.config) };
}

/**
 * The stored spec. A topic created over the raw wire may leave a plugin out (empty
 * module): the pipeline layer reads that as the kind's default built-in. A config that is
 * not JSON stays a string, and loading the plugin then fails naming it.
 */
export function fromPluginSpecMsg(msg: PluginSpecMsg | undefined | null): PluginSpec {
  const spec: PluginSpec = { module: msg?.module ?? "" };
  if (msg?.exportName) spec.export = msg.exportName;
  if (msg?.configJson) {
    try {
      spec.config = JSON.parse(msg.configJson);
    } catch {
      spec.config = msg.configJson;
    }
  }
  return spec;
}

export function pipelineOf(info: TopicInfo): PipelineSpecs {
  return {
    validator: fromPluginSpecMsg(info.validator),
    partitionSelector: fromPluginSpecMsg(info.partitionSelector),
    serializer: fromPluginSpecMsg(info.serializer),
  };
}

export function describeTopicInfo(info: TopicInfo): TopicDescription {
  return {
    name: info.name,
    id: info.topicId || undefined,
    partitions: info.partitions,
    replicas: 1,
    pipeline: pipelineOf(info),
    createdAtMs: info.createdAtMs,
    partitionInfo: info.partitionInfo.map((p) => ({ partition: p.partition, nextOffset: Number(p.nextOffset), sizeBytes: Number(p.sizeBytes) })),
  };
}
