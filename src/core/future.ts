/**
 * The future `push()` returns: a thenable that settles with the event's ID.
 *
 * It is a plain object, not a Promise: a real Promise is only made when somebody calls
 * `then` (for example by `await`). Pushing a million events therefore makes no million
 * promises, and a failed future that nobody awaits cannot become an unhandled rejection;
 * its error goes to the producer's error listeners instead.
 *
 * Only the producer settles a future, through the internal functions at the end of this
 * module, which reach the hard-private fields. They are not part of the public API (this
 * comment is published with the declarations, so it does not name them).
 */
import { abortable } from "./abort.js";
import type { EventID } from "./types.js";

const PENDING = 0;
const RESOLVED = 1;
const REJECTED = 2;
/** Longest delay a Node timer holds. */
const MAX_TIMER_MS = 2 ** 31 - 1;

let resolveImpl: (future: EventFuture, id: EventID | undefined, partition: number) => void;
let rejectImpl: (future: EventFuture, error: Error, partition: number) => void;
let durableImpl: (future: EventFuture) => boolean;
let isDurableImpl: (future: EventFuture) => boolean;
let observedImpl: (future: EventFuture) => boolean;
let callbackImpl: (future: EventFuture) => DeliveryCallback | undefined;

/** Called once an event is acknowledged (`error` undefined) or failed (`id` undefined). */
export type DeliveryCallback = (error: Error | undefined, id: EventID | undefined, partition: number) => void;

/**
 * What only some futures need: promises somebody asked for, and a push's `onDelivery`.
 * Kept apart so that a million futures nobody awaits stay small (less to collect).
 */
interface Extras {
  promise?: Promise<EventID>;
  settle?: { resolve: (id: EventID) => void; reject: (e: Error) => void };
  durablePromise?: Promise<void>;
  durableSettle?: { resolve: () => void; reject: (e: Error) => void };
  onDelivery?: DeliveryCallback;
}

/** Flag in #state: the event is in the producer's write-ahead log. */
const DURABLE = 4;
const OUTCOME = 3;

export class EventFuture implements PromiseLike<EventID> {
  /** PENDING, RESOLVED or REJECTED, plus the DURABLE flag. */
  #state = PENDING;
  #value: EventID | Error | undefined;
  #partition = -1;
  #extras: Extras | undefined;

  static {
    resolveImpl = (f, id, partition) => {
      if ((f.#state & OUTCOME) !== PENDING) return;
      f.#state = (f.#state & DURABLE) | RESOLVED;
      f.#value = id;
      f.#partition = partition;
      const x = f.#extras;
      if (x !== undefined) {
        x.settle?.resolve(id as EventID);
        x.durableSettle?.resolve();
      }
    };
    rejectImpl = (f, error, partition) => {
      if ((f.#state & OUTCOME) !== PENDING) return;
      const durable = f.#state & DURABLE;
      f.#state = durable | REJECTED;
      f.#value = error;
      if (partition >= 0) f.#partition = partition;
      const x = f.#extras;
      if (x !== undefined) {
        x.settle?.reject(error);
        if (!durable) x.durableSettle?.reject(error);
      }
    };
    durableImpl = (f) => {
      if (f.#state !== PENDING) return false;
      f.#state = DURABLE;
      f.#extras?.durableSettle?.resolve();
      return true;
    };
    isDurableImpl = (f) => (f.#state & DURABLE) !== 0;
    callbackImpl = (f) => f.#extras?.onDelivery;
    observedImpl = (f) => f.#extras !== undefined;
  }

  /** @internal Futures are made by `Producer.push`. */
  constructor(
    /** Position of the event in its producer's push sequence (0-based). */
    readonly index: number,
    onDelivery?: DeliveryCallback,
  ) {
    if (onDelivery !== undefined) this.#extras = { onDelivery };
  }

  /** Partition the event went to; -1 until known (it is known once completed, unless the event failed before a partition was chosen). */
  get partition(): number {
    return this.#partition;
  }

  /** True once the event is acknowledged or has failed. */
  get completed(): boolean {
    return (this.#state & OUTCOME) !== PENDING;
  }

  /** The error, once the event failed. */
  get error(): Error | undefined {
    return (this.#state & OUTCOME) === REJECTED ? (this.#value as Error) : undefined;
  }

  /** The event's ID once acknowledged (undefined before, or when it failed). */
  get id(): EventID | undefined {
    return (this.#state & OUTCOME) === RESOLVED ? (this.#value as EventID) : undefined;
  }

  then<A = EventID, B = never>(
    onResolved?: ((id: EventID) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#asPromise().then(onResolved, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<EventID | B> {
    return this.#asPromise().catch(onRejected);
  }

  /**
   * Waits at most `timeoutMs` for the event's ID; resolves `undefined` on timeout.
   * Rejects, like `await future`, when the event failed, and with the signal's reason
   * when `signal` aborts the wait. A timeout longer than a timer can hold (2^31 - 1 ms,
   * about 24.8 days; `Infinity` included) waits without one.
   */
  wait(timeoutMs: number, options: { signal?: AbortSignal } = {}): Promise<EventID | undefined> {
    if (this.completed) return this.#asPromise();
    // Node fires a timer whose delay does not fit in 32 bits after 1 ms instead.
    if (timeoutMs > MAX_TIMER_MS) return abortable(this.#asPromise(), options.signal);
    const waiting = new Promise<EventID | undefined>((resolve, reject) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.#asPromise().then(
        (id) => (clearTimeout(timer), resolve(id)),
        (err) => (clearTimeout(timer), reject(err)),
      );
    });
    return abortable(waiting, options.signal);
  }

  /**
   * Resolves once the event is durable: written to the producer's write-ahead log under
   * its fsync policy, or acknowledged by the log (a producer without a WAL: at the ack).
   * Rejects when the event failed before it became durable.
   */
  durable(): Promise<void> {
    const state = this.#state;
    if (state & DURABLE || (state & OUTCOME) === RESOLVED) return Promise.resolve();
    if ((state & OUTCOME) === REJECTED) return handled(Promise.reject(this.#value as Error));
    const x = (this.#extras ??= {});
    x.durablePromise ??= handled(new Promise<void>((resolve, reject) => (x.durableSettle = { resolve, reject })));
    return x.durablePromise;
  }

  #asPromise(): Promise<EventID> {
    const x = (this.#extras ??= {});
    if (!x.promise) {
      const outcome = this.#state & OUTCOME;
      if (outcome === RESOLVED) x.promise = Promise.resolve(this.#value as EventID);
      else if (outcome === REJECTED) x.promise = Promise.reject(this.#value as Error);
      else x.promise = new Promise((resolve, reject) => (x.settle = { resolve, reject }));
    }
    return x.promise;
  }
}

/** @internal Settles `future` with its event ID (a no-op once settled). */
export function resolveFuture(future: EventFuture, id: EventID, partition: number): void {
  resolveImpl(future, id, partition);
}

/** @internal Fails `future` (a no-op once settled); `partition` -1 when none was chosen. */
export function rejectFuture(future: EventFuture, error: Error, partition = -1): void {
  rejectImpl(future, error, partition);
}

/** @internal Marks `future` durable; false when it already was, or had settled. */
export function markDurable(future: EventFuture): boolean {
  return durableImpl(future);
}

/** @internal Whether `future` was marked durable. */
export function isDurable(future: EventFuture): boolean {
  return isDurableImpl(future);
}

/** @internal Whether anybody will hear of the future's outcome (then/await, durable(), onDelivery). */
export function isObserved(future: EventFuture): boolean {
  return observedImpl(future);
}

/** The promise, marked handled: `durable()` asked for and not awaited never crashes the process. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** @internal The push's `onDelivery` callback, if it had one. */
export function deliveryCallbackOf(future: EventFuture): DeliveryCallback | undefined {
  return callbackImpl(future);
}
