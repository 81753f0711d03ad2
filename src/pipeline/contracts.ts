/**
 * Plugin contracts of the producer pipeline (the Diaspora Stream API's Validator,
 * PartitionSelector and Serializer, in TypeScript idiom).
 *
 * Plugins run inside worker threads, so a topic never holds plugin objects: it holds
 * {@link PluginSpec}s (module + export + JSON config) and every thread loads its own
 * instances from them. A plugin module exports either a class, constructed as
 * `new X(config)`, or a factory function, called as `X(config)` (it may return a
 * promise). Instances must be usable for many events: they are created once per thread
 * and per topic pipeline, never per event.
 */
import type { PluginSpec } from "../core/types.js";

export type { PipelineSpecs, PluginSpec } from "../core/types.js";

/**
 * Checks one event before it is routed. Throws to reject the event; the thrown
 * error's message becomes the rejection reason the producer reports.
 */
export interface Validator {
  /**
   * @param metadata the event's metadata, a JSON-compatible value
   * @param data the event's data bytes (a view: do not keep it past the call)
   */
  validate(metadata: unknown, data: Uint8Array): void;
}

/** Chooses the partition of an event that was pushed without an explicit partition. */
export interface PartitionSelector {
  /**
   * @param metadata the validated metadata
   * @param numPartitions partitions of the topic (at least 1)
   * @param key the key given at push time, if any
   * @returns an integer in `[0, numPartitions)`; anything else rejects the event
   */
  selectPartitionFor(metadata: unknown, numPartitions: number, key?: string): number;
}

/** Turns metadata into the bytes stored in the log, and back (consumers). */
export interface Serializer {
  /** Encodes validated metadata. The result is copied before the next call, so it may be a view into a buffer the serializer reuses. */
  serialize(metadata: unknown): Uint8Array;
  /** Decodes what {@link Serializer.serialize} produced. */
  deserialize(bytes: Uint8Array): unknown;
  /**
   * Optional, for serializers whose output is text: the metadata as a string. When a
   * serializer has it, the pipeline calls it instead of `serialize` and writes the
   * string's UTF-8 bytes straight into the batch, saving an intermediate buffer per event.
   * Its UTF-8 encoding must equal what `serialize` returns.
   */
  serializeToString?(metadata: unknown): string;
}

/** The three plugin kinds of a topic pipeline. */
export type PluginKind = "validator" | "partitionSelector" | "serializer";

/** Maps each plugin kind to its contract. */
export interface PluginContracts {
  validator: Validator;
  partitionSelector: PartitionSelector;
  serializer: Serializer;
}

/**
 * What users write: a {@link PluginSpec}, a built-in name (`"json-schema"`), or the
 * short form `"ExportName:./module.js"`. See `storedSpec` in spec.ts.
 */
export type PluginSpecInput = string | PluginSpec;
