/**
 * Ctrl-C for the long-running commands: the first SIGINT (or SIGTERM) aborts the
 * returned signal so the command can stop and clean up; a second one exits at once,
 * after `lastResort` (for what must not be left behind even then).
 */
export interface Interrupt {
  readonly signal: AbortSignal;
  /** The signal that arrived, if one did. */
  readonly received: NodeJS.Signals | undefined;
  /** Stops listening (the default handlers apply again). */
  dispose(): void;
}

export const INTERRUPTED_EXIT_CODE = 130;

export function onInterrupt(lastResort: () => void = () => {}): Interrupt {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals): void => {
    if (received) {
      lastResort();
      process.exit(INTERRUPTED_EXIT_CODE);
    }
    received = signal;
    controller.abort(new Error(`${signal}`));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
