/**
 * The dedupe table of one partition: for each producer ID, the IDs its recent batches
 * got, so a batch re-sent after a reconnect is answered with its original IDs instead
 * of being stored twice.
 *
 * It is bounded three ways: `window` batches per producer, `maxProducers` producer IDs
 * (the least recently active is forgotten first), and `idleMs` (a producer silent that
 * long is forgotten). A re-send outside those bounds is stored again as a new batch.
 */
export interface DedupeBounds {
  window: number;
  maxProducers: number;
  idleMs: number;
}

interface ProducerWindow {
  seqs: Map<number, { first: number; count: number }>;
  order: number[];
  lastSeenMs: number;
}

export class DedupeTable {
  /** Least recently active first: every touch moves a producer to the end. */
  private readonly producers = new Map<string, ProducerWindow>();
  private lastSweepMs = 0;

  constructor(private readonly bounds: DedupeBounds) {}

  /** The IDs `(producerId, batchSeq)` got, if remembered. */
  lookup(producerId: string, batchSeq: number, nowMs: number): { first: number; count: number } | undefined {
    const window = this.producers.get(producerId);
    if (!window) return undefined;
    if (nowMs - window.lastSeenMs > this.bounds.idleMs) {
      this.producers.delete(producerId);
      return undefined;
    }
    return window.seqs.get(batchSeq);
  }

  remember(producerId: string, batchSeq: number, first: number, count: number, nowMs: number): void {
    let window = this.producers.get(producerId);
    if (window) this.producers.delete(producerId);
    else window = { seqs: new Map(), order: [], lastSeenMs: nowMs };
    window.lastSeenMs = Math.max(window.lastSeenMs, nowMs);
    this.producers.set(producerId, window);
    if (!window.seqs.has(batchSeq)) window.order.push(batchSeq);
    window.seqs.set(batchSeq, { first, count });
    if (window.order.length > this.bounds.window) window.seqs.delete(window.order.shift()!);
    while (this.producers.size > this.bounds.maxProducers) this.producers.delete(this.producers.keys().next().value!);
    this.sweep(nowMs);
  }

  /** Producer IDs remembered. */
  get size(): number {
    return this.producers.size;
  }

  /** Forgets producers idle past the bound; at most once a second, oldest first. */
  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < 1000) return;
    this.lastSweepMs = nowMs;
    for (const [id, window] of this.producers) {
      if (nowMs - window.lastSeenMs <= this.bounds.idleMs) break;
      this.producers.delete(id);
    }
  }
}
