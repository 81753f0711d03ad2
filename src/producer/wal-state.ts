/**
 * What a producer knows of its write-ahead log, on its own thread: how full it is (full
 * at `maxBytes`, room again at half: hysteresis, like the capacity gate), and the
 * batches an earlier run left in it, which the transport re-sends first and a full
 * flush waits for.
 */
export class WalState {
  bytes = 0;
  #full = false;
  #roomWaiters: (() => void)[] = [];
  replayed = { batches: 0, events: 0 };
  #replayLeft = 0;
  replayFailed = 0;
  #replayWaiters: (() => void)[] = [];

  constructor(private readonly maxBytes: number) {}

  get full(): boolean {
    return this.#full;
  }

  /** Pushers waiting for room. */
  get waiting(): number {
    return this.#roomWaiters.length;
  }

  /** Bytes handed to the WAL, before the transport reports its size again. */
  add(bytes: number): void {
    this.set(this.bytes + bytes);
  }

  /** The WAL's size, as the transport reported it. */
  set(bytes: number): void {
    this.bytes = bytes;
    if (!this.#full && bytes >= this.maxBytes) this.#full = true;
    else if (this.#full && bytes <= this.maxBytes / 2) {
      this.#full = false;
      this.release();
    }
  }

  /** Resolves once the WAL has room again (or release() gives up waiting). */
  waitForRoom(): Promise<void> {
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Lets every waiter go (room again, or the producer broke or closed). */
  release(): void {
    for (const resolve of this.#roomWaiters.splice(0)) resolve();
    for (const resolve of this.#replayWaiters.splice(0)) resolve();
  }

  /** The transport re-sends these batches of an earlier run first. */
  replaying(replayed: { batches: number; events: number }): void {
    this.replayed = replayed;
    this.#replayLeft = replayed.batches;
  }

  /** A batch this run never sent was answered: a replayed one. */
  replayAnswered(failed: boolean): void {
    if (this.#replayLeft === 0) return;
    if (failed) this.replayFailed++;
    if (--this.#replayLeft === 0) for (const resolve of this.#replayWaiters.splice(0)) resolve();
  }

  /** Resolves once every replayed batch was answered. */
  replayDone(): Promise<void> {
    if (this.#replayLeft === 0) return Promise.resolve();
    return new Promise((resolve) => this.#replayWaiters.push(resolve));
  }
}
