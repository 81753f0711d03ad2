/**
 * Every default of the JetStream driver, in one place. Durations are milliseconds.
 * The figures come from the measurements in the driver's README section (elections of
 * 4–9 s, ~53 µs of client CPU per acked publish).
 */
export const JETSTREAM_DEFAULTS = Object.freeze({
  /** Port of a `nats://host` without one. */
  port: 4222,
  /** Connecting (and the driver's API calls) give up after this long. */
  timeoutMs: 5000,
  /**
   * How long a partition stream remembers a `Nats-Msg-Id`: a batch re-sent within it is
   * stored once. Must outlast the producer's delivery timeout (30 s) plus an election.
   */
  duplicateWindowMs: 120_000,
  /**
   * Wait for the acknowledgement of a batch's last message. A leader that died with the
   * request in flight never answers; the re-send path takes over after this long.
   */
  ackTimeoutMs: 5000,
  /** Header room kept free of `max_payload` for the message ID and the expectation headers. */
  headerBudgetBytes: 512,
  /**
   * Most events in one appended batch: every batch is one acknowledged publish, and a
   * batch found half-stored after a failure is searched with log2(n) probes.
   */
  maxBatchEvents: 4096,
  /** Largest record blob of one batch (its messages sit in the client's outbound buffer together). */
  maxBatchBytes: 4 * 1024 * 1024,
  /** KV bucket of topic descriptions (one key per topic). */
  catalogBucket: "tributary_topics",
  /** KV bucket of consumer cursors (one key per topic, consumer name and partition). */
  cursorBucket: "tributary_cursors",
  /** Prefix of every partition stream's name and subject. */
  streamPrefix: "TRIB_",
  subjectPrefix: "tributary",
  /** Messages asked for per pull of a reader. */
  readBatch: 1000,
  /** A follow reader's pull waits this long for new messages before asking again. */
  readExpiresMs: 2000,
  /**
   * Timeout of the API calls readers and resyncs make (consumer creation, stream state):
   * short, so that they retry often while a stream elects its leader.
   */
  controlTimeoutMs: 2000,
  /** A pull not over this long after its expiry is taken for lost (its server died). */
  pullGraceMs: 2000,
  /** A read to the end that starts during an election waits this long for an answer. */
  readStartRetryMs: 30_000,
  /** The server drops a reader's consumer this long after the reader stopped pulling. */
  readerInactiveMs: 30_000,
  /** Longest topic name: stream names become directory names (255 bytes with prefix and partition). */
  maxTopicNameLength: 200,
});
