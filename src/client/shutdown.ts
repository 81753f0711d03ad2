/**
 * Graceful shutdown on SIGINT / SIGTERM for a process that produces: stop taking work,
 * close the driver (or producer) within a deadline, report what became of the events,
 * exit.
 *
 * ```ts
 * shutdownOnSignals(driver, { timeoutMs: 10_000, beforeClose: () => server.close() });
 * ```
 */
import { InvalidArgumentError } from "../core/errors.js";
import { stderrLogger, type Logger } from "../core/logger.js";
import type { CloseOptions, CloseReport } from "../producer/producer.js";
import type { DriverCloseReport } from "./driver.js";

/** Something that closes with a deadline and reports: a Driver or a Producer. */
export interface Closable {
  close(options?: CloseOptions): Promise<DriverCloseReport | CloseReport>;
}

export interface ShutdownOptions {
  /** Signals to handle. Default `["SIGINT", "SIGTERM"]`. */
  signals?: NodeJS.Signals[];
  /**
   * Deadline of the whole shutdown: `beforeClose` and then the wait for unacknowledged
   * events (see `Producer.close`) together. Default 10 s.
   */
  timeoutMs?: number;
  /**
   * Runs first, to stop intake (close an HTTP server, finish in-flight requests). When it
   * has not finished by the deadline, the shutdown logs a warning and closes anyway.
   */
  beforeClose?: () => unknown;
  /** Where the report goes. Default: the logger. */
  onReport?: (report: ShutdownReport) => unknown;
  /** End the process once closed (exit code 0, or 1 when events were lost). Default true. */
  exit?: boolean;
  logger?: Logger;
}

export interface ShutdownReport {
  signal: NodeJS.Signals;
  /** What the close reported. */
  close: DriverCloseReport | CloseReport | undefined;
  /** The error that stopped the shutdown early, if any. */
  error: unknown;
  ms: number;
}

/**
 * Installs the handlers; a second signal during the shutdown exits at once with code
 * 130. Returns a function that removes them, and a promise of the report.
 */
export function shutdownOnSignals(target: Closable, options: ShutdownOptions = {}): { uninstall(): void; done: Promise<ShutdownReport> } {
  if (typeof target?.close !== "function") throw new InvalidArgumentError("shutdownOnSignals needs a Driver or Producer (something with close())");
  const signals = options.signals ?? ["SIGINT", "SIGTERM"];
  const timeoutMs = options.timeoutMs ?? 10_000;
  const logger = options.logger ?? stderrLogger;
  const exit = options.exit ?? true;
  let resolveDone!: (r: ShutdownReport) => void;
  const done = new Promise<ShutdownReport>((r) => (resolveDone = r));
  let shuttingDown = false;

  const handler = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      logger.warn({ signal }, "second signal during shutdown: exiting now");
      process.exit(130);
    }
    shuttingDown = true;
    const t0 = Date.now();
    logger.info({ signal, timeoutMs }, "shutting down: no new events, waiting for the pending ones");
    void (async () => {
      let close: ShutdownReport["close"];
      let error: unknown;
      try {
        if (options.beforeClose && !(await within(options.beforeClose, timeoutMs))) {
          logger.warn({ timeoutMs }, "beforeClose did not finish by the shutdown deadline: closing anyway");
        }
        close = await target.close({ timeoutMs: Math.max(0, timeoutMs - (Date.now() - t0)) });
      } catch (err) {
        error = err;
      }
      const report: ShutdownReport = { signal, close, error, ms: Date.now() - t0 };
      if (options.onReport) await options.onReport(report);
      else if (error) logger.error({ error }, "shutdown failed");
      else logger.info(summary(close), "shut down");
      resolveDone(report);
      if (exit) process.exit(error !== undefined || (close?.lost ?? 0) > 0 ? 1 : 0);
    })();
  };
  for (const s of signals) process.on(s, handler);
  return {
    uninstall: () => {
      for (const s of signals) process.off(s, handler);
    },
    done,
  };
}

/** Runs `fn`; true when it settled within `ms` (its error is thrown), false on timeout. */
async function within(fn: () => unknown, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([Promise.resolve().then(fn).then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function summary(r: DriverCloseReport | CloseReport | undefined): Record<string, unknown> {
  if (!r) return {};
  return { acknowledged: r.acknowledged, failed: r.failed, leftInWal: r.leftInWal, lost: r.lost, cutShort: r.cutShort };
}
