/**
 * Where a topic's pipeline runs: a Piscina pool of worker threads, inline on the main
 * thread (size 0), or `"auto"`: measured per pipeline on its first chunks (see
 * auto-placement.ts). One pool can serve many producers; a task is a whole chunk.
 */
import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { Piscina } from "piscina";
import { InvalidArgumentError, TributaryError } from "../core/errors.js";
import { AutoPlacement, type Placement } from "./auto-placement.js";
import { loadPipeline } from "./loader.js";
import { processChunkWith, type ChunkInput, type ChunkOutput } from "./chunk.js";
import type { PipelineSpecs } from "./contracts.js";

/** `file:` URL of the compiled Piscina worker that runs a chunk (dist/workers/pipeline-worker.js). */
export const PIPELINE_WORKER_URL: string = new URL("../../workers/pipeline-worker.js", import.meta.url).href;

/** Threads of a pool: a count (0 = inline) or "auto". */
export type ThreadPoolSize = number | "auto";

export class ThreadPool {
  /** Worker threads (for "auto": the threads used when the pool is chosen). */
  readonly threads: number;
  private piscina: Piscina<ChunkInput, ChunkOutput> | undefined;
  private readonly placements: Map<string, AutoPlacement> | undefined;
  private readonly keys = new WeakMap<PipelineSpecs, string>();
  private closed = false;

  /** @internal Use `driver.makeThreadPool(n)`. */
  constructor(
    /** Worker threads; 0 runs the pipeline inline on the main thread; "auto" measures. */
    readonly size: ThreadPoolSize,
  ) {
    if (size === "auto") {
      this.threads = availableParallelism();
      this.placements = new Map();
    } else if (Number.isInteger(size) && size >= 0 && size <= 256) {
      this.threads = size;
      // A fixed pool starts its threads now, not on the first chunk.
      if (size > 0) this.startPool();
    } else {
      throw new InvalidArgumentError(`thread pool size must be "auto" or an integer from 0 to 256, got ${String(size)}`);
    }
  }

  /** True when the pipeline always runs on the main thread. */
  get inline(): boolean {
    return this.size === 0;
  }

  /**
   * For an "auto" pool: where a pipeline runs ("inline" / "pool"), or "probing" while its
   * first chunks are measured. Fixed pools answer their fixed placement.
   */
  placementOf(specs: PipelineSpecs): Placement | "probing" {
    if (!this.placements) return this.size === 0 ? "inline" : "pool";
    return this.placements.get(this.keyOf(specs))?.choice ?? "probing";
  }

  /** For an "auto" pool: the measured main-thread ns per event of each path for a pipeline. */
  measurementsOf(specs: PipelineSpecs): { inlineNsPerEvent: number; poolNsPerEvent: number } | undefined {
    return this.placements?.get(this.keyOf(specs))?.measured;
  }

  /** @internal Runs one chunk. */
  run(input: ChunkInput, transfer: ArrayBuffer[]): Promise<ChunkOutput> {
    if (this.closed) return Promise.reject(new InvalidArgumentError("thread pool is closed"));
    if (this.size === 0) return this.runInline(input);
    if (!this.placements) return this.runOnPool(input, transfer);
    const key = this.keyOf(input.specs);
    let placement = this.placements.get(key);
    // The workers start with the first pool probe: started with the first chunk, they
    // took the CPU a cheap pipeline's warm-up needed (auto ran at 0.8x inline).
    if (!placement) this.placements.set(key, (placement = new AutoPlacement(this.threads)));
    if (placement.choice === "pool") return this.runOnPool(input, transfer);
    if (placement.choice === "inline") return this.runInline(input);
    // While probing, chunks take turns: each one is placed only after the chunks before it
    // were measured, so a burst of pushes is not placed before anything is known.
    const probing = placement;
    type Turn = { output: Promise<ChunkOutput>; queued: boolean };
    const turn = probing.turn.then((): Turn | Promise<Turn> => {
      if (probing.choice === "pool") return { output: this.runOnPool(input, transfer), queued: false };
      if (probing.choice === "inline") return { output: this.runInline(input), queued: false };
      const n = input.metadata.length;
      const { placement: where, probe } = probing.next(n);
      if (where === "pool") {
        // A chunk Piscina only queued (no worker had room, or none was up yet) waits there
        // unserialized: its hand-over was not paid yet, so it is no sample, and the next
        // probe waits for it to finish.
        let queued = false;
        const output = probing.measure(
          probe,
          "pool",
          n,
          () => this.runOnPool(input, transfer),
          () => !(queued = (this.piscina?.queueSize ?? 0) > 0),
        );
        return { output, queued };
      }
      return loadPipeline(input.specs).then((pipeline) => ({
        output: Promise.resolve(probing.measure(probe, "inline", n, () => processChunkWith(pipeline, input, true))),
        queued: false,
      }));
    });
    // Probes overlap (an inline probe runs while the pool works on the previous one),
    // except behind a chunk the pool only queued. Once decided, the chunks still queued
    // behind the probes take their turn without waiting.
    probing.turn = turn.then(
      (t) => (probing.choice === undefined && t.queued ? t.output.then(noop, noop) : undefined),
      () => undefined,
    );
    return turn.then((t) => t.output);
  }

  /** @internal The pool's worker threads (for utilization measurements). */
  get workerThreads(): readonly Worker[] {
    return (this.piscina?.threads ?? []) as Worker[];
  }

  /** Stops the worker threads. Producers using the pool must be closed first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina?.destroy();
  }

  private runInline(input: ChunkInput): Promise<ChunkOutput> {
    return loadPipeline(input.specs).then((pipeline) => processChunkWith(pipeline, input, true));
  }

  private runOnPool(input: ChunkInput, transfer: ArrayBuffer[]): Promise<ChunkOutput> {
    return this.startPool()
      .run(input, { transferList: transfer as never })
      .catch((err: unknown) => Promise.reject(rebuildError(err)));
  }

  private startPool(): Piscina<ChunkInput, ChunkOutput> {
    return (this.piscina ??= new Piscina({
      filename: PIPELINE_WORKER_URL,
      minThreads: this.threads,
      maxThreads: this.threads,
      // Chunks queue in each worker's own port, so a worker never idles waiting for a
      // busy main thread to hand it the next one.
      concurrentTasksPerWorker: 4,
      idleTimeout: Infinity,
    }));
  }

  private keyOf(specs: PipelineSpecs): string {
    let key = this.keys.get(specs);
    if (!key) this.keys.set(specs, (key = JSON.stringify(specs)));
    return key;
  }
}

const noop = (): void => {};

/** Key, in the `cause` of an error a pipeline worker throws, of the error's tributary code. */
export const CODE_KEY = "tributaryCode";

/** An error thrown in a pipeline worker, as the class the inline path throws. */
function rebuildError(err: unknown): unknown {
  const code = ((err as Error)?.cause as Record<string, unknown> | undefined)?.[CODE_KEY];
  if (typeof code !== "string") return err; // DataCloneError and other main-thread errors
  const message = (err as Error).message;
  return code === "INVALID_ARGUMENT" ? new InvalidArgumentError(message) : new TributaryError(message, { code });
}
