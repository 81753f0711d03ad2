/** AbortSignal support for the waits of the API (flush, ready, wait, connect, close). */

/**
 * `promise`, or a rejection with the signal's reason as soon as it aborts (an
 * `AbortError` DOMException unless the caller gave another reason). The work behind
 * the promise goes on; only the waiting stops.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener("abort", onAbort), resolve(v)),
      (e) => (signal.removeEventListener("abort", onAbort), reject(e)),
    );
  });
}

/** Resolves `"done"` with `promise`, or `"timeout"` / `"aborted"` first (never rejects). */
export function settleWithin(promise: Promise<unknown>, timeoutMs: number, signal: AbortSignal | undefined): Promise<"done" | "timeout" | "aborted"> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve("aborted");
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => finish("timeout"), Math.max(0, timeoutMs)) : undefined;
    const onAbort = (): void => finish("aborted");
    signal?.addEventListener("abort", onAbort, { once: true });
    function finish(outcome: "done" | "timeout" | "aborted"): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    }
    promise.then(
      () => finish("done"),
      () => finish("done"),
    );
  });
}
