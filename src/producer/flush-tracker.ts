/**
 * What `flush()` waits for: every event pushed before the call settled, even while
 * other code keeps pushing.
 *
 * Push indexes only grow, so a flush splits them into epochs: epoch k holds the events
 * pushed between flush k-1 and flush k. Each open epoch counts its unsettled events; a
 * flush resolves once its epoch and every earlier one reached zero. An epoch is dropped
 * when it is done, so the tables stay as short as the flushes outstanding (usually one
 * entry), and settling an event costs one comparison in that common case.
 */
export class FlushTracker {
  /** First push index of each open epoch, ascending. */
  #starts: number[] = [0];
  /** Unsettled events of each open epoch. */
  #unsettled: number[] = [0];
  /** Flushes waiting, each on the epochs up to the one it closed (counted from the front). */
  #waiters: { end: number; resolve: () => void }[] = [];

  /** Flushes still waiting. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** An event was pushed (its index is the highest so far). */
  pushed(): void {
    this.#unsettled[this.#unsettled.length - 1]!++;
  }

  /** The event pushed as `index` settled (acknowledged or failed). */
  settled(index: number): void {
    const starts = this.#starts;
    let k = starts.length - 1;
    if (k > 0) {
      // Binary search for the last epoch starting at or before `index`.
      let lo = 0;
      while (lo < k) {
        const mid = (lo + k + 1) >>> 1;
        if (starts[mid]! <= index) lo = mid;
        else k = mid - 1;
      }
      k = lo;
    }
    if (--this.#unsettled[k]! === 0 && k === 0 && this.#waiters.length > 0) this.#release();
  }

  /**
   * Resolves once every event pushed before this call settled; `nextIndex` is the index
   * the next push will get.
   */
  flush(nextIndex: number): Promise<void> {
    const last = this.#unsettled.length - 1;
    if (last === 0 && this.#unsettled[0] === 0) {
      // Nothing outstanding: restart the epoch at the next push.
      this.#starts[0] = nextIndex;
      return Promise.resolve();
    }
    this.#starts.push(nextIndex);
    this.#unsettled.push(0);
    const done = new Promise<void>((resolve) => this.#waiters.push({ end: this.#starts.length - 1, resolve }));
    this.#release();
    return done;
  }

  /** Drops finished epochs from the front and resolves the flushes they complete. */
  #release(): void {
    let dropped = 0;
    while (this.#unsettled.length > 1 && this.#unsettled[0] === 0) {
      this.#unsettled.shift();
      this.#starts.shift();
      dropped++;
    }
    if (dropped === 0) return;
    for (const w of this.#waiters) w.end -= dropped;
    while (this.#waiters.length > 0 && this.#waiters[0]!.end <= 0) this.#waiters.shift()!.resolve();
  }
}
