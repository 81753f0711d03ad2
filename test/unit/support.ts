/** Small helpers shared by the unit tests (not a test file itself). */
import { EventFuture } from "../../dist/src/core/future.js";

/** A promise with its settle functions, for fakes whose answers a test controls. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Seeded PRNG (mulberry32): the same seed gives the same sequence on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded Fisher–Yates shuffle of 0..n-1. */
export function permutation(n: number, random: () => number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Lets every queued microtask (and the ones they queue) run. */
export async function drainMicrotasks(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** Observes a promise's state without awaiting it. */
export function track<T>(promise: Promise<T>): { readonly state: "pending" | "resolved" | "rejected"; readonly value: T | undefined; readonly error: unknown } {
  const s = { state: "pending" as "pending" | "resolved" | "rejected", value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (v) => ((s.state = "resolved"), (s.value = v)),
    (e) => ((s.state = "rejected"), (s.error = e)),
  );
  return s;
}


/**
 * A future for push index `index`. The constructor is internal (only the producer makes
 * futures), so the published declaration has none: reach it through a cast.
 */
export const futureAt = (index: number): EventFuture => new (EventFuture as unknown as new (index: number) => EventFuture)(index);
