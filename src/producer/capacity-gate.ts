/**
 * Backpressure: counts unsettled events against `maxPendingEvents`. Full, `hasCapacity`
 * turns false and `ready()` waits until the count is down to half the limit.
 *
 * Waiters wake at half the limit, not at the first free slot: the caller then pushes a
 * long run of events that fills whole chunks, instead of one event per wake-up.
 */
export class CapacityGate {
  #pending = 0;
  #waiters: (() => void)[] = [];
  #wakeScheduled = false;

  constructor(readonly limit: number) {}

  /** Events counted and not yet released. */
  get pending(): number {
    return this.#pending;
  }

  get hasCapacity(): boolean {
    return this.#pending < this.limit;
  }

  /** Callers waiting for capacity. */
  get waiting(): number {
    return this.#waiters.length;
  }

  add(): void {
    this.#pending++;
  }

  release(n: number): void {
    this.#pending -= n;
    if (this.#waiters.length > 0 && this.#pending <= this.limit / 2 && !this.#wakeScheduled) {
      // Resume the waiting pusher from the event loop's check phase, not from inside the
      // ack message handler: Node drains up to 1,000 port messages per turn, and a pusher
      // resumed in there would keep the loop from ever reaching its timers.
      this.#wakeScheduled = true;
      setImmediate(() => {
        this.#wakeScheduled = false;
        this.openAll();
      });
    }
  }

  /** Resolves at once when there is capacity, else once the count is down to half the limit. */
  wait(): Promise<void> {
    if (this.hasCapacity) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Lets every waiter go (the producer broke or closed: waiting would never end). */
  openAll(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}
