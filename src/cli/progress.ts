/**
 * Progress on stderr: the one implementation behind the CLI's bars and the benchmark
 * runner's (bench/lib/progress.ts draws its two-level line with {@link StatusLine}).
 *
 * On a terminal, cli-progress redraws one status line in place, ten times a second. The
 * line is made for the terminal's width at every redraw (so a resize is followed), and
 * the terminal's line wrapping is off while it shows, so it can never stack up. Lines
 * logged meanwhile appear above it. Anywhere else (a pipe, a CI log) nothing is redrawn:
 * {@link Progress} writes one line per 10%.
 */
import cliProgress from "cli-progress";

/** `[####------]`: `width` cells in all, brackets included. */
export function bar(fraction: number, width: number): string {
  const cells = Math.max(0, width - 2);
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * cells);
  return `[${"#".repeat(filled)}${"-".repeat(cells - filled)}]`;
}

/** m:ss, or h:mm:ss for long runs. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor(s / 60) % 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm.padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** Cuts a line to fewer than `width` columns (the last column is left free). */
export function cut(line: string, width: number): string {
  return line.length < width ? line : line.slice(0, Math.max(0, width - 1));
}

const WRAP_ON = "\x1b[?7h";
const WRAP_OFF = "\x1b[?7l";

/** Status lines on screen: line wrapping is turned back on if the process exits while one shows. */
const showing = new Set<StatusLine>();
let exitHook = false;

/**
 * One status line on a terminal, redrawn in place by cli-progress from `render(width)`,
 * with lines logged above it. On anything but a terminal it draws nothing and `log`
 * writes straight through.
 */
export class StatusLine {
  readonly tty: boolean;
  #multi: cliProgress.MultiBar | undefined;

  constructor(
    private readonly render: (width: number) => string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = stream.isTTY === true;
  }

  /** Shows the line (terminal only); it is redrawn ten times a second until {@link stop}. */
  start(): void {
    if (!this.tty || this.#multi) return;
    this.#multi = new cliProgress.MultiBar({
      stream: this.stream,
      // The line is made for the width the terminal has at each redraw.
      format: (_options, params) => cut(this.render(params.maxWidth), params.maxWidth),
      clearOnComplete: true,
      // A logged line clears the bar's row: redraw it even when its text did not change.
      forceRedraw: true,
      linewrap: false,
      fps: 10,
    });
    this.#multi.create(1, 0);
    showing.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on("exit", () => {
        for (const line of showing) line.stream.write(`\r\x1b[K${WRAP_ON}`);
      });
    }
  }

  /** Redraws now instead of at the next tick. */
  redraw(): void {
    this.#multi?.update();
  }

  /** Writes `message` on a line of its own, above the status line when one shows. */
  log(message: string): void {
    if (!this.#multi) {
      this.stream.write(`${message}\n`);
      return;
    }
    // Over the bar's row, with line wrapping on, so a long line wraps like any output.
    this.stream.write(`\r\x1b[K${WRAP_ON}${message}\n${WRAP_OFF}`);
    this.#multi.update();
  }

  /** Removes the line from the screen (the terminal wraps lines again). */
  stop(): void {
    if (!this.#multi) return;
    this.#multi.stop();
    this.#multi = undefined;
    showing.delete(this);
  }
}

export interface ProgressOptions {
  /** Where to draw; default stderr. */
  stream?: NodeJS.WriteStream;
  /** What is counted; default "events". */
  unit?: string;
}

/** Seconds between lines for an unknown total when not on a terminal. */
const UNKNOWN_TOTAL_EVERY_MS = 10_000;

/**
 * A counted task on stderr: `label [####----]  42% 420,000/1,000,000 events, 512,345/s`,
 * or, with no known total, `label 420,000 events, 512,345/s, 0:03`. Redrawn in place on a
 * terminal; elsewhere one line per 10% (no known total: one every 10 s), and a last one.
 */
export class Progress {
  readonly #start = performance.now();
  readonly #line: StatusLine;
  readonly #unit: string;
  readonly #stream: NodeJS.WriteStream;
  #done = 0;
  #finished = false;
  #lastDecile = 0;
  #lastLineAt = performance.now();

  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    options: ProgressOptions = {},
  ) {
    this.#unit = options.unit ?? "events";
    this.#stream = options.stream ?? process.stderr;
    this.#line = new StatusLine((width) => this.format(width), this.#stream);
    this.#line.start();
  }

  update(done: number): void {
    this.#done = done;
    if (this.#line.tty || this.#finished) return;
    if (this.total !== undefined && this.total > 0) {
      const decile = Math.floor((done / this.total) * 10);
      if (decile > this.#lastDecile && done < this.total) {
        this.#lastDecile = decile;
        this.#line.log(this.format(Infinity));
      }
    } else if (performance.now() - this.#lastLineAt >= UNKNOWN_TOTAL_EVERY_MS) {
      this.#lastLineAt = performance.now();
      this.#line.log(this.format(Infinity));
    }
  }

  /** Writes a line above the bar. */
  log(message: string): void {
    this.#line.log(message);
  }

  /** The final state, on a line of its own (`done` defaults to the total). */
  done(done = this.total ?? this.#done): void {
    if (this.#finished) return;
    this.#done = done;
    this.#line.stop();
    this.#finished = true;
    this.#line.log(this.format(this.#line.tty ? this.#stream.columns || 80 : Infinity));
  }

  /** Removes the bar without a final line (when the task was cut short). */
  stop(): void {
    this.#line.stop();
    this.#finished = true;
  }

  /** The line for a terminal `width` columns wide (Infinity: no limit, fixed bar). */
  format(width: number): string {
    const done = this.#done;
    const elapsed = performance.now() - this.#start;
    const rate = elapsed > 0 ? Math.round(done / (elapsed / 1000)) : 0;
    const n = (x: number): string => x.toLocaleString("en-US");
    if (this.total === undefined) return cut(`${this.label} ${n(done)} ${this.#unit}, ${n(rate)}/s, ${clock(elapsed)}`, width);
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const tail = ` ${(fraction * 100).toFixed(0).padStart(3)}% ${n(done)}/${n(this.total)} ${this.#unit}, ${n(rate)}/s`;
    // The bar takes what the text leaves, between 10 and 30 cells; below 10 it goes.
    const room = width === Infinity ? 30 : Math.min(30, width - 1 - this.label.length - 1 - tail.length);
    const line = room >= 10 ? `${this.label} ${bar(fraction, room)}${tail}` : `${this.label}${tail}`;
    return cut(line, width);
  }
}
