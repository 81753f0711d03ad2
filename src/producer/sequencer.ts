/**
 * Restores push order between chunks. Chunks finish in any order on the worker pool;
 * under Strict ordering a finished chunk waits until every earlier chunk is released,
 * so each partition's events reach the batcher in push order. Under Loose ordering a
 * chunk is released as soon as it finishes.
 */
export class Sequencer<T> {
  private next = 0;
  private readonly held = new Map<number, T>();
  /** Chunks that finished while an earlier one was still running. */
  heldBack = 0;

  constructor(private readonly strict: boolean, private readonly release: (item: T) => void) {}

  /** Chunks finished but held back behind an earlier one. */
  get waiting(): number {
    return this.held.size;
  }

  /** Reports chunk `seq` (0, 1, 2, … in dispatch order) as finished. */
  complete(seq: number, item: T): void {
    if (!this.strict) {
      this.release(item);
      return;
    }
    if (seq !== this.next) this.heldBack++;
    this.held.set(seq, item);
    while (this.held.has(this.next)) {
      const ready = this.held.get(this.next)!;
      this.held.delete(this.next++);
      this.release(ready);
    }
  }
}
