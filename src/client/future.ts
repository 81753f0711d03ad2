/**
 * The future `push()` returns: a thenable that settles with the event's ID.
 *
 * It is a plain object, not a Promise: a real Promise is only made when somebody calls
 * `then` (for example by `await`). Pushing a million events therefore makes no million
 * promises, and a failed future that nobody awaits cannot become an unhandled rejection;
 * its error goes to the producer's error listeners instead.
 */
import type { EventID } from "./types.js";

const PENDING = 0;
const RESOLVED = 1;
const REJECTED = 2;

export class EventFuture implements PromiseLike<EventID> {
  private state = PENDING;
  private value: EventID | Error | undefined;
  private promise: Promise<EventID> | undefined;
  private settle: { resolve: (id: EventID) => void; reject: (e: Error) => void } | undefined;
  /** Partition the event went to; -1 until known. */
  partition = -1;
  /** @internal Flush epoch the event was pushed in. */
  epoch = 0;

  /** @internal */
  constructor(
    /** Position of the event in its producer's push sequence. */
    readonly index: number,
  ) {}

  /** True once the event is acknowledged or has failed. */
  get completed(): boolean {
    return this.state !== PENDING;
  }

  /** The error, once the event failed. */
  get error(): Error | undefined {
    return this.state === REJECTED ? (this.value as Error) : undefined;
  }

  then<A = EventID, B = never>(
    onResolved?: ((id: EventID) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.asPromise().then(onResolved, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<EventID | B> {
    return this.asPromise().catch(onRejected);
  }

  /**
   * Waits at most `timeoutMs` for the event's ID; resolves `undefined` on timeout.
   * Rejects, like `await future`, when the event failed.
   */
  wait(timeoutMs: number): Promise<EventID | undefined> {
    if (this.state !== PENDING) return this.asPromise();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.asPromise().then(
        (id) => (clearTimeout(timer), resolve(id)),
        (err) => (clearTimeout(timer), reject(err)),
      );
    });
  }

  /** True when somebody is waiting on this future (then/await/wait was called). */
  get observed(): boolean {
    return this.promise !== undefined;
  }

  /** @internal */
  resolve(id: EventID, partition: number): void {
    if (this.state !== PENDING) return;
    this.state = RESOLVED;
    this.value = id;
    this.partition = partition;
    this.settle?.resolve(id);
  }

  /** @internal */
  reject(error: Error): void {
    if (this.state !== PENDING) return;
    this.state = REJECTED;
    this.value = error;
    this.settle?.reject(error);
  }

  private asPromise(): Promise<EventID> {
    if (!this.promise) {
      if (this.state === RESOLVED) this.promise = Promise.resolve(this.value as EventID);
      else if (this.state === REJECTED) this.promise = Promise.reject(this.value as Error);
      else this.promise = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    }
    return this.promise;
  }
}
