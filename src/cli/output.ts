/**
 * Standard output of the commands that print one line per event: lines are gathered and
 * written in blocks, the writer waits while the reader is behind (so memory stays
 * bounded), and a reader that went away (`tributary consume T | head -2`: EPIPE) ends
 * the output quietly instead of with an unhandled error.
 */
export class LineOutput {
  #buffer = "";
  #closed = false;
  #draining: Promise<void> | undefined;
  #flushScheduled = false;
  readonly #gone = new AbortController();

  /** Lines gathered before a block is written. */
  static readonly BLOCK_BYTES = 64 * 1024;

  constructor(private readonly stream: NodeJS.WritableStream & { writableNeedDrain?: boolean } = process.stdout) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      // EPIPE: the reader closed its end. Anything else is just as final for the output.
      this.#closed = true;
      this.#buffer = "";
      if (!this.#gone.signal.aborted) this.#gone.abort(err);
    });
  }

  /** Aborts when the reader went away (EPIPE) or the stream failed. */
  get gone(): AbortSignal {
    return this.#gone.signal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True while the reader is behind: stop producing lines and `await drained()`. */
  get blocked(): boolean {
    return !this.#closed && this.#draining !== undefined;
  }

  /** Adds a line (without its newline): written with the block it completes, or once the caller yields. */
  line(text: string): void {
    if (this.#closed) return;
    this.#buffer += `${text}\n`;
    if (this.#buffer.length >= LineOutput.BLOCK_BYTES) this.flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Writes what was gathered. */
  flush(): void {
    if (this.#closed || this.#buffer === "") return;
    const block = this.#buffer;
    this.#buffer = "";
    if (!this.stream.write(block) && !this.#draining) {
      this.#draining = new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off("drain", done);
          this.#gone.signal.removeEventListener("abort", done);
          this.#draining = undefined;
          resolve();
        };
        this.stream.on("drain", done);
        this.#gone.signal.addEventListener("abort", done);
      });
    }
  }

  /** Resolves once the reader took what was written (or went away). */
  drained(): Promise<void> {
    return this.#draining ?? Promise.resolve();
  }

  /** Writes the rest and waits until the reader took it. */
  async end(): Promise<void> {
    this.flush();
    await this.drained();
  }
}
