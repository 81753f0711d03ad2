/**
 * Chooses, per pipeline, between running chunks inline and on the worker pool, by what
 * each costs the main thread per event.
 *
 * Inline, the main thread runs the whole pipeline; on the pool, it pays for handing the
 * chunk over (the structured clone inside `postMessage`). The first chunks of a pipeline
 * run inline to warm the JIT; the next ones alternate between both paths while the
 * main-thread time of each is measured; then the pipeline stays on the cheaper path.
 * A very clear case for inline is decided after one sample of each path, a clear case
 * after two, a close one after six (four for an expensive pipeline). After a chunk that
 * shows the pipeline expensive, the warm-up ends and each worker gets a pool probe before
 * every inline probe; if the next inline probe is cheap, the expensive chunk was a lazy
 * set-up, and the warm-up starts over.
 */

/** Events run inline before measuring: the JIT needs thousands of calls to settle. */
const WARM_UP_EVENTS = 8192;
/** Per-event cost above which a chunk's time is the pipeline's, not the JIT's warm-up. */
const EXPENSIVE_NS = 20_000;
/** Measured chunks per path. */
const SAMPLES = 6;
/**
 * Measured chunks per path for a pipeline that is clearly expensive: fewer, because
 * every inline probe costs a chunk's worth of that work on the main thread, but more than
 * two, because noise (preemption, GC) only ever inflates a sample and the lowest one
 * is kept.
 */
const EXPENSIVE_SAMPLES = 4;
/**
 * The pool wins only when the pipeline costs several times the hand-over: a crossing is
 * paid twice (clone on the main thread, deserialize in the worker), and the pool's
 * threads compete for cores with the transport thread and the broker. On the 2-core
 * machine of docs/BENCHMARKS.md, a pipeline of JSON Schema + key-hash + JSON (probed at
 * ~5x the hand-over) ran faster inline, and one with a 10 µs validator ran faster on
 * the pool: 6x keeps the first inline.
 */
const POOL_FACTOR = 6;
const MARGIN_NS = 500;
/**
 * Samples per path after which a clear case is decided early: when one path's best is
 * under half of what the rule asks of it (inline above twice the pool's threshold, or
 * below half of it), more samples would not change the decision, and every further
 * probe waits for the one before it.
 */
const EARLY_SAMPLES = 2;
const CLEAR_FACTOR = 2;
/**
 * An inline path this many times under the pool's threshold is decided on one sample of
 * each path: a cheap pipeline then stops paying for pool probes at once.
 */
const VERY_CLEAR_FACTOR = 4;

export type Placement = "inline" | "pool";

export class AutoPlacement {
  private chunks = 0;
  private warmUpEvents = 0;
  private warmUpChunks = -1;
  private expensive = false;
  /** Pool probes before each inline probe of an expensive pipeline (one per worker); 0: alternate. */
  private leadPoolProbes = 0;

  private readonly inlineNs: number[] = [];
  private readonly poolNs: number[] = [];
  private decided: Placement | undefined;
  /** @internal The chain probing chunks wait on (see ThreadPool.run). */
  turn: Promise<void> = Promise.resolve();

  /** `threads`: the pool's workers; an expensive pipeline gets that many pool probes first. */
  constructor(private readonly threads = 1) {}

  /** The decision, or undefined while probing. */
  get choice(): Placement | undefined {
    return this.decided;
  }

  /**
   * Main-thread cost per event of each path, in ns (NaN before it is measured): the
   * lowest sample, because noise on a shared machine (preemption, GC) only ever adds.
   */
  get measured(): { inlineNsPerEvent: number; poolNsPerEvent: number } {
    const low = (xs: number[]): number => (xs.length ? Math.min(...xs) : NaN);
    return { inlineNsPerEvent: low(this.inlineNs), poolNsPerEvent: low(this.poolNs) };
  }

  /** Where the next probing chunk runs, and its probe number. */
  next(events: number): { placement: Placement; probe: number } {
    const probe = this.chunks++;
    if (this.warmUpChunks < 0) {
      if (this.expensive) {
        // A chunk showed the pipeline expensive: every worker gets a pool probe first, so
        // that none idles while the main thread runs the inline probe.
        this.warmUpChunks = probe;
        this.leadPoolProbes = Math.max(1, this.threads);
      } else {
        this.warmUpEvents += events;
        if (this.warmUpEvents >= WARM_UP_EVENTS) this.warmUpChunks = probe + 1;
        return { placement: "inline", probe };
      }
    }
    // A cheap pipeline alternates, inline first; an expensive one sends each worker a chunk
    // before every inline probe, so no worker idles while the main thread runs that probe.
    const k = probe - this.warmUpChunks;
    const lead = this.leadPoolProbes;
    const inline = lead === 0 ? k % 2 === 0 : k % (lead + 1) === lead;
    return { placement: inline ? "inline" : "pool", probe };
  }

  /**
   * Times `work` (probe `probe`'s main-thread part on `placement`); decides once both paths
   * have samples. `counts`, asked after the work, says whether the time is a sample (a
   * chunk the pool only queued was not handed over yet: its time says nothing).
   */
  measure<T>(probe: number, placement: Placement, events: number, work: () => T, counts: () => boolean = () => true): T {
    const t0 = performance.now();
    const result = work();
    const ns = ((performance.now() - t0) * 1e6) / Math.max(1, events);
    const probing = this.warmUpChunks >= 0 && probe >= this.warmUpChunks;
    if (placement === "inline" && ns > EXPENSIVE_NS) {
      // A pipeline this slow is not a JIT artefact: stop warming up, decide soon. (This
      // chunk is no sample: the first chunks of a pipeline may pay its lazy set-up.)
      this.expensive = true;
    } else if (placement === "inline" && this.leadPoolProbes > 0 && probing && !this.decided) {
      // It was the set-up after all (a schema compiled on first use): a cheap pipeline
      // needs its warm-up, and its probes so far measured a cold JIT.
      this.expensive = false;
      this.warmUpChunks = -1;
      this.leadPoolProbes = 0;
      this.inlineNs.length = 0;
      this.poolNs.length = 0;
      return result;
    }
    if (probing && counts()) (placement === "inline" ? this.inlineNs : this.poolNs).push(ns);
    const have = Math.min(this.inlineNs.length, this.poolNs.length);
    if (this.decided || have < 1) return result;
    const { inlineNsPerEvent, poolNsPerEvent } = this.measured;
    const threshold = POOL_FACTOR * poolNsPerEvent + MARGIN_NS;
    // One sample decides only for inline: noise (a GC pause) inflates an inline sample and
    // could fake an expensive pipeline, but cannot make one look cheap.
    if (have >= EARLY_SAMPLES && inlineNsPerEvent > CLEAR_FACTOR * threshold) this.decided = "pool";
    else if ((have >= EARLY_SAMPLES ? CLEAR_FACTOR : VERY_CLEAR_FACTOR) * inlineNsPerEvent < threshold) this.decided = "inline";
    else if (have >= (this.expensive ? EXPENSIVE_SAMPLES : SAMPLES)) this.decided = inlineNsPerEvent > threshold ? "pool" : "inline";
    return result;
  }
}
