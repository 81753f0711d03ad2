/**
 * The future `push()` returns: a thenable that settles with the event's ID.
 *
 * It is a plain object, not a Promise: a real Promise is only made when somebody calls
 * `then` (for example by `await`). Pushing a million events therefore makes no million
 * promises, and a failed future that nobody awaits cannot become an unhandled rejection;
 * its error goes to the producer's error listeners instead.
 *
 * Only the producer settles a future, through two functions of this module that reach
 * its hard-private fields; they are not part of the public API.
 */
import type { EventID } from "./types.js";

const PENDING = 0;
const RESOLVED = 1;
const REJECTED = 2;

let resolveImpl: (future: EventFuture, id: EventID | undefined, partition: number) => void;
let rejectImpl: (future: EventFuture, error: Error, partition: number) => void;
let durableImpl: (future: EventFuture) => boolean;
let isDurableImpl: (future: EventFuture) => boolean;

export class EventFuture implements PromiseLike<EventID> {
  #state = PENDING;
  #value: EventID | Error | undefined;
  #partition = -1;
  #promise: Promise<EventID> | undefined;
  #settle: { resolve: (id: EventID) => void; reject: (e: Error) => void } | undefined;
  /** In the producer's write-ahead log (under its fsync policy). */
  #durable = false;
  #durablePromise: Promise<void> | undefined;
  #durableSettle: { resolve: () => void; reject: (e: Error) => void } | undefined;

  static {
    resolveImpl = (f, id, partition) => {
      if (f.#state !== PENDING) return;
      f.#state = RESOLVED;
      f.#value = id;
      f.#partition = partition;
      f.#settle?.resolve(id as EventID);
      f.#durableSettle?.resolve();
    };
    rejectImpl = (f, error, partition) => {
      if (f.#state !== PENDING) return;
      f.#state = REJECTED;
      f.#value = error;
      if (partition >= 0) f.#partition = partition;
      f.#settle?.reject(error);
      if (!f.#durable) f.#durableSettle?.reject(error);
    };
    durableImpl = (f) => {
      if (f.#durable || f.#state !== PENDING) return false;
      f.#durable = true;
      f.#durableSettle?.resolve();
      return true;
    };
    isDurableImpl = (f) => f.#durable;
  }

  /** @internal Futures are made by `Producer.push`. */
  constructor(
    /** Position of the event in its producer's push sequence (0-based). */
    readonly index: number,
  ) {}

  /** Partition the event went to; -1 until known (it is known once completed, unless the event failed before a partition was chosen). */
  get partition(): number {
    return this.#partition;
  }

  /** True once the event is acknowledged or has failed. */
  get completed(): boolean {
    return this.#state !== PENDING;
  }

  /** The error, once the event failed. */
  get error(): Error | undefined {
    return this.#state === REJECTED ? (this.#value as Error) : undefined;
  }

  /** The event's ID once acknowledged (undefined before, or when it failed). */
  get id(): EventID | undefined {
    return this.#state === RESOLVED ? (this.#value as EventID) : undefined;
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
   * Rejects, like `await future`, when the event failed.
   */
  wait(timeoutMs: number): Promise<EventID | undefined> {
    if (this.#state !== PENDING) return this.#asPromise();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.#asPromise().then(
        (id) => (clearTimeout(timer), resolve(id)),
        (err) => (clearTimeout(timer), reject(err)),
      );
    });
  }

  /**
   * Resolves once the event is durable: written to the producer's write-ahead log under
   * its fsync policy, or acknowledged by the log (a producer without a WAL: at the ack).
   * Rejects when the event failed before it became durable.
   */
  durable(): Promise<void> {
    if (this.#durable || this.#state === RESOLVED) return Promise.resolve();
    if (this.#state === REJECTED) return handled(Promise.reject(this.#value as Error));
    this.#durablePromise ??= handled(new Promise<void>((resolve, reject) => (this.#durableSettle = { resolve, reject })));
    return this.#durablePromise;
  }

  #asPromise(): Promise<EventID> {
    if (!this.#promise) {
      if (this.#state === RESOLVED) this.#promise = Promise.resolve(this.#value as EventID);
      else if (this.#state === REJECTED) this.#promise = Promise.reject(this.#value as Error);
      else this.#promise = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    }
    return this.#promise;
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

/** The promise, marked handled: `durable()` asked for and not awaited never crashes the process. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
