/**
 * The producer's lifecycle, as a table of legal transitions:
 *
 *   starting ──► open ──► closing ──► closed
 *       │          │         ▲
 *       └──► broken ─────────┘        (and starting ──► closing, when closed at once)
 *
 * - starting: the transport thread is coming up; pushes are taken and queued.
 * - open: batches flow to the log.
 * - broken: the transport thread could not start or died; every queued and later event
 *   fails with the reason.
 * - closing / closed: `close()` was called; `push` throws ClosedError.
 */
export type ProducerState = "starting" | "open" | "broken" | "closing" | "closed";

const TRANSITIONS: { readonly [S in ProducerState]: readonly ProducerState[] } = {
  starting: ["open", "broken", "closing"],
  open: ["broken", "closing"],
  broken: ["closing"],
  closing: ["closed"],
  closed: [],
};

export class Lifecycle {
  #state: ProducerState = "starting";

  get state(): ProducerState {
    return this.#state;
  }

  /** True once `close()` was called. */
  get closing(): boolean {
    return this.#state === "closing" || this.#state === "closed";
  }

  /** Moves to `next`; a transition the table does not allow is a bug, and throws. */
  to(next: ProducerState): void {
    if (!TRANSITIONS[this.#state].includes(next)) throw new Error(`producer state cannot go from ${this.#state} to ${next}`);
    this.#state = next;
  }

  /** Moves to `next` when the table allows it from here; returns whether it did. */
  tryTo(next: ProducerState): boolean {
    if (!TRANSITIONS[this.#state].includes(next)) return false;
    this.#state = next;
    return true;
  }
}
