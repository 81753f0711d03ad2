/** What `demo` and `produce TOPIC` share: the pipeline flags, and how they report. */
import { BatchSize, Ordering, type BatchSizeOption, type PipelineSpecs } from "../core/types.js";
import type { ThreadPool } from "../pipeline/thread-pool.js";

/** `produce --acks`: an ack line per event, only the failed ones, or a summary. */
export const ACK_MODES = ["each", "errors", "summary"] as const;
/** `produce --line-mode`: a line is JSON metadata, or a string. */
export const LINE_MODES = ["json", "raw"] as const;

/** Flags shared by `demo` and `produce TOPIC`. */
export interface PipelineFlags {
  threads: number | "auto";
  ordering: "strict" | "loose";
  batchSize: number | "adaptive";
}

/** The producer settings of the pipeline flags. */
export function producerSettings(flags: PipelineFlags): { batchSize: BatchSizeOption; ordering: Ordering } {
  return {
    batchSize: flags.batchSize === "adaptive" ? BatchSize.Adaptive : flags.batchSize,
    ordering: flags.ordering === "strict" ? Ordering.Strict : Ordering.Loose,
  };
}

/** `4 pipeline threads`, `inline`, or for auto: what it chose for the topic's pipeline, once it has. */
export function placementLabel(pool: ThreadPool, threads: number | "auto", topic?: { pipeline: PipelineSpecs }): string {
  if (threads !== "auto") return threads === 0 ? "inline" : `${threads} pipeline threads`;
  const chosen = topic ? pool.placementOf(topic.pipeline) : "probing";
  if (chosen === "probing") return `auto placement (inline or ${pool.threads} pipeline threads, measured)`;
  return `auto placement chose ${chosen === "pool" ? `${pool.threads} pipeline threads` : "inline"}`;
}

/**
 * CPU time of this process (all its threads: main, pipeline workers, transport, an
 * embedded broker) per event since it was made: a cost per event that other work on
 * the machine does not distort the way it distorts events/s.
 */
export class CpuMeter {
  readonly #start = process.cpuUsage();

  /** µs of CPU per event, to one decimal. */
  perEvent(events: number): string {
    const { user, system } = process.cpuUsage(this.#start);
    return events > 0 ? ((user + system) / events).toFixed(1) : "0";
  }
}
