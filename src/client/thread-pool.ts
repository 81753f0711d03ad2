/**
 * Where a topic's pipeline runs: a Piscina pool of worker threads, or inline on the main
 * thread (size 0). One pool can serve many producers; a task is a whole chunk.
 */
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { InvalidArgumentError } from "./errors.js";
import { loadPipeline } from "../pipeline/loader.js";
import { processChunkWith, type ChunkInput, type ChunkOutput } from "../pipeline/chunk.js";
import { PIPELINE_WORKER_URL } from "../pipeline/index.js";

export class ThreadPool {
  private readonly piscina: Piscina<ChunkInput, ChunkOutput> | undefined;
  private closed = false;

  /** @internal Use `driver.makeThreadPool(n)`. */
  constructor(
    /** Worker threads; 0 runs the pipeline inline on the main thread. */
    readonly size: number,
  ) {
    if (!Number.isInteger(size) || size < 0 || size > 256) {
      throw new InvalidArgumentError(`thread pool size must be an integer from 0 to 256, got ${String(size)}`);
    }
    if (size > 0) {
      this.piscina = new Piscina({
        filename: PIPELINE_WORKER_URL,
        minThreads: size,
        maxThreads: size,
        // Chunks queue in each worker's own port, so a worker never idles waiting for a busy main thread to hand it the next one.
        concurrentTasksPerWorker: 4,
        idleTimeout: Infinity,
      });
    }
  }

  /** A pool with one thread per core. */
  static perCore(): ThreadPool {
    return new ThreadPool(availableParallelism());
  }

  /** True when the pipeline runs on the main thread. */
  get inline(): boolean {
    return this.size === 0;
  }

  /** @internal Runs one chunk. */
  run(input: ChunkInput, transfer: ArrayBuffer[]): Promise<ChunkOutput> {
    if (this.closed) return Promise.reject(new InvalidArgumentError("thread pool is closed"));
    if (!this.piscina) return loadPipeline(input.specs).then((pipeline) => processChunkWith(pipeline, input));
    return this.piscina.run(input, { transferList: transfer as never });
  }

  /** Stops the worker threads. Producers using the pool must be closed first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina?.destroy();
  }
}
