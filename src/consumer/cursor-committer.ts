/**
 * Coalesces a consumer's acknowledgements into cursor commits.
 *
 * Acknowledging every event with its own RPC would cost one round trip (and one atomic
 * file write on the broker) per event. Instead each partition has at most one commit in
 * flight; acknowledgements that arrive meanwhile only raise the wanted cursor, and the
 * next commit stores the highest one. Every acknowledgement settles with the first
 * commit that covers it.
 */
import { ClosedError } from "../core/errors.js";

/** Stores `nextOffset` as the cursor of one partition (the broker RPC). */
export type CommitFn = (partition: number, nextOffset: number) => Promise<void>;

interface Waiter {
  offset: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface PartitionCursor {
  /** Highest cursor asked for. */
  wanted: number;
  /** Highest cursor the broker confirmed. */
  committed: number;
  /** Acknowledgements not yet covered by a finished commit. */
  waiters: Waiter[];
  /** The running commit loop, if any. */
  running: Promise<void> | undefined;
}

export class CursorCommitter {
  private readonly cursors = new Map<number, PartitionCursor>();
  private closed = false;

  constructor(private readonly commit: CommitFn) {}

  /**
   * Raises the cursor of `partition` to at least `nextOffset`. Resolves once a commit of
   * a cursor >= `nextOffset` succeeded; rejects with the error of the commit that
   * should have covered it. The returned promise is pre-marked as handled: callers that
   * acknowledge fire-and-forget do not crash the process on a failed commit (the events
   * are then simply delivered again to the next consumer of that name).
   */
  acknowledge(partition: number, nextOffset: number): Promise<void> {
    if (this.closed) return handled(Promise.reject(new ClosedError("consumer is closed: acknowledge() came too late")));
    let cursor = this.cursors.get(partition);
    if (!cursor) {
      cursor = { wanted: -1, committed: -1, waiters: [], running: undefined };
      this.cursors.set(partition, cursor);
    }
    if (nextOffset <= cursor.committed) return Promise.resolve();
    cursor.wanted = Math.max(cursor.wanted, nextOffset);
    const done = new Promise<void>((resolve, reject) => cursor.waiters.push({ offset: nextOffset, resolve, reject }));
    cursor.running ??= this.run(partition, cursor);
    return handled(done);
  }

  /** Refuses further acknowledgements and waits for the commits under way (never rejects). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.cursors.values()].map((c) => c.running));
  }

  /** Commits until every waiter is settled; each round stores the latest wanted cursor. */
  private async run(partition: number, cursor: PartitionCursor): Promise<void> {
    while (cursor.waiters.length > 0) {
      const value = cursor.wanted;
      let failure: { err: unknown } | undefined;
      try {
        await this.commit(partition, value);
        cursor.committed = Math.max(cursor.committed, value);
      } catch (err) {
        failure = { err };
      }
      // Waiters above `value` arrived during the commit; the next round covers them.
      const covered = cursor.waiters.filter((w) => w.offset <= value);
      cursor.waiters = cursor.waiters.filter((w) => w.offset > value);
      for (const w of covered) failure ? w.reject(failure.err) : w.resolve();
    }
    cursor.running = undefined;
  }
}

function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
