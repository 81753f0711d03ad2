/**
 * The public Consumer: reads partitions of a topic through the driver's reader, merges
 * them into one async iterator and stores progress as named cursors.
 *
 * One follow-mode reader runs per partition. Each pushes its batches into one shared
 * FIFO, so events of a partition keep their ID order while partitions interleave by
 * arrival. Records stay views into the received frames until they are handed out;
 * metadata is decoded at hand-out, so a bad event fails exactly where it is.
 */
import { BrokerError, InvalidArgumentError, MetadataDecodeError } from "../core/errors.js";
import { iterateRecords, type RecordView } from "../core/records.js";
import type { EventID, PluginSpec, StartPosition, TopicDescription } from "../core/types.js";
import type { LogDriver, PartitionReader, ReadBatch } from "../drivers/contract.js";
import type { Serializer } from "../pipeline/contracts.js";
import { loadSerializer } from "../pipeline/loader.js";
import { CursorCommitter } from "./cursor-committer.js";

export type { StartPosition } from "../core/types.js";

/** Options of {@link Consumer}; see `TopicHandle.consumer()`. */
export interface ConsumerOptions {
  /** Consumer name: the broker stores cursors under (topic, name, partition). */
  name: string;
  /** Partitions to read; default: all partitions of the topic. */
  partitions?: number[];
  /** Start of a partition without a stored cursor for `name`; default `"earliest"`. */
  start?: StartPosition;
  /** Events buffered ahead of the iterator before reading pauses; default 10 000. */
  maxBuffered?: number;
  /**
   * `true` (default): follow new events until closed. `false`: end at the end of each
   * partition as it was when reading began; iteration then ends, `poll` returns `[]`.
   */
  follow?: boolean;
  /** Closes the consumer when it aborts: iteration ends, `poll` returns `[]`. */
  signal?: AbortSignal;
}

/** One event as a consumer hands it out. */
export interface ConsumedEvent {
  readonly partition: number;
  /** The event's ID (its offset in its partition). */
  readonly id: EventID;
  /** Append time, ms since epoch. */
  readonly timestamp: number;
  /** Metadata, decoded with the topic's serializer. */
  readonly metadata: unknown;
  /** The event's bytes: a view into the received frame, not a copy. */
  readonly data: Uint8Array;
  /** The key it was pushed with, if any. */
  readonly key: string | undefined;
  /** The headers it was pushed with, if any. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /**
   * Marks this event and every earlier one of its partition as processed. Resolves once
   * the broker stored a cursor covering it; rejects with the BrokerError of that commit.
   * Not awaiting it is fine: a failed commit then only means the events are delivered
   * again to the next consumer of this name.
   */
  acknowledge(): Promise<void>;
}

const DEFAULT_MAX_BUFFERED = 10_000;
const DEFAULT_POLL_MAX = 1000;
const DEFAULT_POLL_TIMEOUT_MS = 1000;
/** Events an iterator takes from the buffer at once. */
const ITERATION_RUN = 256;

/** Received records not yet handed out: the rest of one read batch. */
interface Pending {
  batch: ReadBatch;
  /** Position of the next event to hand out. */
  at: number;
  /** Events of the batch to hand out (fewer than its count at the end of a finite read). */
  count: number;
  records: Iterator<RecordView>;
}

class Event implements ConsumedEvent {
  readonly #committer: CursorCommitter;
  constructor(
    readonly partition: number,
    readonly id: EventID,
    readonly timestamp: number,
    readonly metadata: unknown,
    readonly data: Uint8Array,
    readonly key: string | undefined,
    readonly headers: Readonly<Record<string, string>> | undefined,
    committer: CursorCommitter,
  ) {
    this.#committer = committer;
  }
  acknowledge(): Promise<void> {
    // The cursor is the next offset to read.
    return this.#committer.acknowledge(this.partition, this.id + 1);
  }
}

/**
 * Reads a topic's partitions as one stream of events, in ID order within a partition.
 * Iterate it with `for await` (leaving the loop closes the consumer) or pull batches
 * with {@link Consumer.poll}. Reading starts when the consumer is created and follows
 * new events until {@link Consumer.close}, or (with `follow: false`) ends at the end
 * of each partition as it was when reading began.
 */
export class Consumer implements AsyncIterable<ConsumedEvent> {
  readonly #driver: LogDriver;
  readonly #topic: TopicDescription;
  readonly #serializerSpec: PluginSpec;
  readonly #name: string;
  readonly #maxBuffered: number;
  readonly #follow: boolean;
  /** Partitions still being read; with `follow: false` iteration ends at 0. */
  #reading: number;
  readonly #committer: CursorCommitter;
  readonly #generations = new Map<number, number>();
  #serializer: Serializer | undefined;
  readonly #queue: Pending[] = [];
  #buffered = 0;
  #streams: PartitionReader[] = [];
  /** First read/start/decode error; handed out once the buffer is drained. */
  #failure: { error: unknown } | undefined;
  #closing: Promise<void> | undefined;
  readonly #running: Promise<void>;
  /** Wakes readers blocked on an empty buffer. */
  #dataWaiters: (() => void)[] = [];
  /** Wakes partition streams paused by a full buffer. */
  #spaceWaiters: (() => void)[] = [];

  /**
   * @internal Created by `TopicHandle.consumer()`; `serializer` is the topic's serializer
   * in its runnable form.
   */
  constructor(driver: LogDriver, topic: TopicDescription, serializer: PluginSpec, options: ConsumerOptions) {
    const { name, partitions, start, maxBuffered, follow, signal } = validateOptions(topic, options);
    this.#driver = driver;
    this.#topic = topic;
    this.#serializerSpec = serializer;
    this.#name = name;
    this.#maxBuffered = maxBuffered;
    this.#follow = follow;
    this.#reading = partitions.length;
    // Commits carry the generation this instance claimed, so a log that fences refuses
    // them (FENCED) once a newer instance of this name took over.
    this.#committer = new CursorCommitter((partition, next) => driver.commitCursor(topic.name, name, partition, next, this.#generations.get(partition)));
    this.#running = this.#run(partitions, start).catch((err: unknown) => this.#fail(err));
    if (signal) {
      if (signal.aborted) void this.close();
      else signal.addEventListener("abort", () => void this.close(), { once: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<ConsumedEvent> {
    // Events leave the buffer a run at a time and are handed out one by one from it: one
    // #take per run, not per event.
    let run: ConsumedEvent[] = [];
    let at = 0;
    const done: IteratorResult<ConsumedEvent> = { value: undefined, done: true };
    return {
      next: () => {
        if (this.#closing) return Promise.resolve(done);
        if (at < run.length) return Promise.resolve({ value: run[at++]!, done: false });
        return this.#take(ITERATION_RUN, Infinity).then((events) => {
          run = events;
          at = 0;
          return events.length > 0 ? { value: run[at++]!, done: false } : done;
        });
      },
      // `break` out of for-await: close, so no follow stream outlives the loop.
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /**
   * Pulls up to `max` buffered events, waiting at most `timeoutMs` for the first one.
   * Resolves with `[]` on timeout or once closed; rejects with the error that stopped
   * the consumer (read error, deleted topic, undecodable metadata).
   */
  poll(max = DEFAULT_POLL_MAX, timeoutMs = DEFAULT_POLL_TIMEOUT_MS, options: { signal?: AbortSignal } = {}): Promise<ConsumedEvent[]> {
    if (!Number.isInteger(max) || max < 1) return Promise.reject(new InvalidArgumentError(`poll max must be a positive integer, got ${max}`));
    if (!(timeoutMs >= 0)) return Promise.reject(new InvalidArgumentError(`poll timeout must be >= 0 ms, got ${timeoutMs}`));
    return this.#take(max, timeoutMs, options.signal);
  }

  /** True once a finite consumer (`follow: false`) read every partition to its end and handed everything out, or it closed. */
  get ended(): boolean {
    return this.#closing !== undefined || (!this.#follow && this.#reading === 0 && this.#buffered === 0 && !this.#failure);
  }

  /** @internal Called once the consumer has closed (the driver forgets it). */
  onClosed: (() => void) | undefined;

  /**
   * Cancels the read streams and waits for the cursor commits under way; buffered
   * events are dropped (unacknowledged, they are delivered again to the next consumer
   * of this name). Iteration then ends and `acknowledge()` rejects. Idempotent.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#stopReading();
      this.#queue.length = 0;
      this.#buffered = 0;
      this.#closing = Promise.all([this.#running, this.#committer.close()]).then(() => this.onClosed?.());
      this.#wake();
    }
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Loads the serializer and the cursors, then pumps one Read stream per partition. */
  async #run(partitions: number[], start: StartPosition): Promise<void> {
    const [serializer, cursors] = await Promise.all([
      loadSerializer(this.#serializerSpec),
      Promise.all(partitions.map((p) => this.#cursor(p))),
    ]);
    this.#serializer = serializer;
    if (this.#stopped) return;
    // A finite read ends where each partition ended when reading began.
    const ends = this.#follow ? undefined : (await this.#driver.describeTopic(this.#topic.name)).partitionInfo;
    if (this.#stopped) return;
    this.#streams = partitions.map((partition, i) => {
      const cursor = cursors[i];
      return this.#driver.read({ topic: this.#topic.name, partition, start: cursor === undefined ? start : { offset: cursor }, follow: this.#follow });
    });
    await Promise.all(this.#streams.map((stream, i) => this.#pump(stream, partitions[i]!, ends?.find((p) => p.partition === partitions[i])?.nextOffset)));
  }

  async #pump(stream: PartitionReader, partition: number, end: EventID | undefined): Promise<void> {
    try {
      if (end === 0) return stream.cancel();
      for await (const batch of stream) {
        if (this.#stopped) return;
        if (batch.count === 0) continue;
        const count = end === undefined ? batch.count : countBelow(batch, end);
        if (count > 0) {
          this.#queue.push({ batch, at: 0, count, records: iterateRecords(batch.records, batch.count) });
          this.#buffered += count;
          this.#wake();
        }
        if (count < batch.count || (end !== undefined && lastId(batch) >= end - 1)) return stream.cancel();
        // Not pulling from the stream lets gRPC flow control hold the broker back.
        while (this.#buffered >= this.#maxBuffered && !this.#stopped) await new Promise<void>((r) => this.#spaceWaiters.push(r));
        if (this.#stopped) return;
      }
      // A follow stream only ends by itself when the broker closed the partition.
      if (this.#follow && !this.#stopped) throw await this.#endReason(partition);
    } finally {
      this.#reading--;
      this.#wake();
    }
  }

  /** Where a partition resumes for this name: claimed (fencing older instances) where the log can. */
  async #cursor(partition: number): Promise<EventID | undefined> {
    const driver = this.#driver;
    if (!driver.claimCursor) return driver.fetchCursor(this.#topic.name, this.#name, partition);
    const { nextOffset, generation } = await driver.claimCursor(this.#topic.name, this.#name, partition);
    this.#generations.set(partition, generation);
    return nextOffset;
  }

  /** Why the broker ended a follow stream: usually the topic was deleted. */
  async #endReason(partition: number): Promise<unknown> {
    try {
      await this.#driver.describeTopic(this.#topic.name);
    } catch (err) {
      return err;
    }
    return new BrokerError("UNAVAILABLE", `the broker ended the read stream of topic '${this.#topic.name}' partition ${partition}`);
  }

  async #take(max: number, timeoutMs: number, signal?: AbortSignal): Promise<ConsumedEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#closing) return [];
      if (this.#buffered > 0) return this.#takeBuffered(max);
      if (this.#failure) throw this.#failure.error;
      if (!this.#follow && this.#reading === 0) return [];
      if (signal?.aborted) throw signal.reason;
      const wait = deadline - Date.now();
      if (wait <= 0) return [];
      let timer: NodeJS.Timeout | undefined;
      let waiter: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        waiter = () => resolve();
        this.#dataWaiters.push(waiter);
        if (wait !== Infinity) timer = setTimeout(waiter, wait);
        signal?.addEventListener("abort", waiter, { once: true });
      });
      clearTimeout(timer);
      signal?.removeEventListener("abort", waiter!);
      // On a timeout the waiter is still listed: drop it, or idle polling piles them up.
      const at = this.#dataWaiters.indexOf(waiter!);
      if (at >= 0) this.#dataWaiters.splice(at, 1);
    }
  }

  #takeBuffered(max: number): ConsumedEvent[] {
    const out: ConsumedEvent[] = [];
    const serializer = this.#serializer!; // set before any stream runs
    while (out.length < max && this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const { batch } = head;
      const record = head.records.next().value as RecordView;
      const at = head.at++;
      const id = batch.ids ? batch.ids[at]! : batch.firstEventId + at;
      const timestamp = batch.timestamps ? batch.timestamps[at]! : batch.timestampMs;
      if (head.at === head.count) this.#queue.shift();
      this.#buffered--;
      let metadata: unknown;
      try {
        metadata = serializer.deserialize(record.metadata);
      } catch (err) {
        // Stop here: what was taken before goes out now, the error on the next call. This
        // event is where delivery ends, so its error wins over an earlier read error.
        const error = new MetadataDecodeError(batch.partition, id, err instanceof Error ? err.message : String(err), { cause: err });
        this.#fail(error);
        this.#failure = { error };
        this.#queue.length = 0;
        this.#buffered = 0;
        if (out.length > 0) break;
        throw this.#failure!.error;
      }
      out.push(new Event(batch.partition, id, timestamp, metadata, record.data, record.key, record.headers, this.#committer));
    }
    if (this.#buffered < this.#maxBuffered) this.#wakeAll(this.#spaceWaiters);
    return out;
  }

  get #stopped(): boolean {
    return this.#closing !== undefined || this.#failure !== undefined;
  }

  /** Records the first error; streams stop, buffered events still go out before it. */
  #fail(error: unknown): void {
    if (this.#stopped) return;
    this.#failure = { error };
    this.#stopReading();
    this.#wake();
  }

  #stopReading(): void {
    for (const stream of this.#streams) stream.cancel();
    this.#wakeAll(this.#spaceWaiters);
  }

  #wake(): void {
    this.#wakeAll(this.#dataWaiters);
  }

  #wakeAll(waiters: (() => void)[]): void {
    for (const resolve of waiters.splice(0)) resolve();
  }
}

function validateOptions(topic: TopicDescription, options: ConsumerOptions): Required<Omit<ConsumerOptions, "signal">> & { signal: AbortSignal | undefined } {
  if (typeof options !== "object" || options === null) throw new InvalidArgumentError("consumer options must be an object with at least a name");
  const { name, partitions, start = "earliest", maxBuffered = DEFAULT_MAX_BUFFERED, follow = true, signal } = options;
  if (typeof follow !== "boolean") throw new InvalidArgumentError(`consumer follow must be true or false, got ${JSON.stringify(follow)}`);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgumentError("consumer signal must be an AbortSignal");
  if (typeof name !== "string" || name.length === 0) throw new InvalidArgumentError(`consumer name must be a non-empty string, got ${JSON.stringify(name)}`);
  const all = [...Array(topic.partitions).keys()];
  if (partitions !== undefined) {
    if (!Array.isArray(partitions) || partitions.length === 0) throw new InvalidArgumentError("consumer partitions must be a non-empty array of partition numbers");
    for (const [i, p] of partitions.entries()) {
      if (!Number.isInteger(p) || p < 0 || p >= topic.partitions) {
        throw new InvalidArgumentError(`consumer partition ${JSON.stringify(p)} does not exist: topic '${topic.name}' has ${topic.partitions} partitions (0..${topic.partitions - 1})`);
      }
      if (partitions.indexOf(p) !== i) throw new InvalidArgumentError(`consumer partition ${p} is listed twice`);
    }
  }
  if (!isStartPosition(start)) {
    throw new InvalidArgumentError(`consumer start must be "earliest", "latest", { offset: n >= 0 } or { time: ms >= 0 }, got ${JSON.stringify(start)}`);
  }
  if (!Number.isInteger(maxBuffered) || maxBuffered < 1) throw new InvalidArgumentError(`consumer maxBuffered must be a positive integer, got ${maxBuffered}`);
  return { name, partitions: partitions ?? all, start, maxBuffered, follow, signal };
}

/** Events of a batch with an ID below `end`. */
function countBelow(batch: ReadBatch, end: EventID): number {
  if (!batch.ids) return Math.max(0, Math.min(batch.count, end - batch.firstEventId));
  let n = 0;
  while (n < batch.count && batch.ids[n]! < end) n++;
  return n;
}

function lastId(batch: ReadBatch): EventID {
  return batch.ids ? batch.ids[batch.count - 1]! : batch.firstEventId + batch.count - 1;
}

function isStartPosition(start: unknown): start is StartPosition {
  if (start === "earliest" || start === "latest") return true;
  if (typeof start !== "object" || start === null) return false;
  const keys = Object.keys(start);
  if (keys.length !== 1) return false;
  const value = (start as Record<string, unknown>)[keys[0]!];
  if (keys[0] === "offset") return Number.isSafeInteger(value) && (value as number) >= 0;
  if (keys[0] === "time") return typeof value === "number" && Number.isFinite(value) && value >= 0;
  return false;
}
