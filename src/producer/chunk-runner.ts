/**
 * Runs dispatched chunks on the thread pool (or inline) and hands each finished chunk to
 * the sequencer under its dispatch number. A chunk that cannot be cloned to a worker
 * (metadata with a function or symbol) fails only the events at fault; the rest of the
 * chunk runs again under the same number, so the sequencer's order holds.
 */
import { ValidationError } from "../core/errors.js";
import type { ChunkOutput } from "../pipeline/chunk.js";
import type { PipelineSpecs } from "../pipeline/contracts.js";
import { uncloneableProblem } from "../pipeline/metadata-check.js";
import type { ThreadPool } from "../pipeline/thread-pool.js";
import { ChunkBuilder } from "./chunk-builder.js";
import type { Sequencer } from "./sequencer.js";
import type { Settlement } from "./settlement.js";

/** A chunk that left the pipeline: its events and their results (undefined when the whole chunk failed). */
export interface FinishedChunk {
  chunk: ChunkBuilder;
  output: ChunkOutput | undefined;
}

/** What a chunk needs besides its events. */
export interface ChunkContext {
  specs: PipelineSpecs;
  numPartitions: number;
  maxEventBytes: number;
}

export class ChunkRunner {
  #nextSeq = 0;

  constructor(
    private readonly pool: ThreadPool,
    private readonly context: ChunkContext,
    private readonly sequencer: Sequencer<FinishedChunk>,
    private readonly settlement: Settlement,
  ) {}

  /** Chunks dispatched so far. */
  get dispatched(): number {
    return this.#nextSeq;
  }

  run(chunk: ChunkBuilder): void {
    this.#run(this.#nextSeq++, chunk);
  }

  #run(seq: number, chunk: ChunkBuilder): void {
    const { specs, numPartitions, maxEventBytes } = this.context;
    const { input, transfer } = chunk.build(specs, numPartitions, maxEventBytes);
    this.pool.run(input, transfer).then(
      (output) => this.sequencer.complete(seq, { chunk, output }),
      (err: unknown) => this.#failed(seq, chunk, err),
    );
  }

  #failed(seq: number, chunk: ChunkBuilder, err: unknown): void {
    if ((err as Error)?.name === "DataCloneError") {
      const bad = new Set<number>();
      chunk.metadata.forEach((m, i) => {
        const problem = uncloneableProblem(m);
        if (problem === undefined) return;
        bad.add(i);
        const f = chunk.futures[i]!;
        this.settlement.fail(f, new ValidationError(f.index, "input", problem));
      });
      if (bad.size > 0) {
        const rest = chunk.without(bad);
        if (rest.size > 0) this.#run(seq, rest);
        else this.sequencer.complete(seq, { chunk: rest, output: undefined });
        return;
      }
    }
    const error = err instanceof Error ? err : new Error(String(err));
    for (const f of chunk.futures) this.settlement.fail(f, error);
    this.sequencer.complete(seq, { chunk: new ChunkBuilder(), output: undefined });
  }
}
