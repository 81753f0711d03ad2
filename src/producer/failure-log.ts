/**
 * Failures nobody hears of: an event that fails while no error listener, delivery
 * listener or `onDelivery` is installed and nobody awaits its future. They are not
 * dropped in silence: the first failure of each error code is logged at once, later ones
 * as a count at most once per interval, so a stream of failures costs a line per code
 * per interval, not a line per event.
 */
import type { Logger } from "../core/logger.js";

const INTERVAL_MS = 10_000;

export class FailureLog {
  readonly #counts = new Map<string, { count: number; last: number; example: string }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly producer: string,
    private readonly topic: string,
  ) {}

  report(error: Error): void {
    const code = (error as { code?: string }).code ?? error.name;
    const now = Date.now();
    const entry = this.#counts.get(code);
    if (!entry) {
      this.#counts.set(code, { count: 0, last: now, example: error.message });
      this.logger.warn(
        { producer: this.producer, topic: this.topic, code, error: error.message },
        `an event failed and nobody listens: add producer.on("error") or onDelivery to handle failures (further ${code} failures are counted every ${INTERVAL_MS / 1000} s)`,
      );
      return;
    }
    entry.count++;
    entry.example = error.message;
    if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), INTERVAL_MS);
      this.#timer.unref();
    }
  }

  /** Logs the counts gathered since the last line of each code. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const [code, entry] of this.#counts) {
      if (entry.count === 0) continue;
      this.logger.warn({ producer: this.producer, topic: this.topic, code, count: entry.count, error: entry.example }, `${entry.count} more events failed and nobody listens`);
      entry.count = 0;
      entry.last = Date.now();
    }
  }
}
