/**
 * One partition stream as the appender writes it: batches pipelined as chains of
 * messages, each message allowed in only right after its predecessor, and a resync that
 * works out, after any break, what of the unacknowledged batches is already stored.
 *
 * Why a chain: one acked `js.publish` costs the client ~53 µs, core publishes a few. So a
 * batch goes out as core publishes plus one request for its last message, and order is
 * enforced by the server instead of by waiting: every message carries
 * `Nats-Expected-Last-Msg-Id` = the ID of this producer's previous message (or, right after
 * a resync, `Nats-Expected-Last-Sequence` = the stream's last sequence). A message whose
 * predecessor is missing — lost with a dying leader, or overtaken by another writer — is
 * refused, and so is everything after it; the batch's request then answers "wrong last
 * msg ID/sequence" and the chain resyncs. Hence what this producer stored of a partition
 * is always a prefix of what it sent, in order, each message stored once (a refused
 * message is never stored; a re-sent stored one is a duplicate, see below).
 *
 * Resync: `Nats-Msg-Id` dedupe answers a re-sent stored message with its original
 * sequence. A probe — the message ID alone, with an expectation no stream can meet — is
 * therefore never stored and says whether, and where, a message is stored. With the prefix
 * property, the first batch not fully stored is found with a probe of each batch's last
 * message, and its first missing message by bisection (log2 n probes). Sending resumes
 * from there with the stream's last sequence as the expectation.
 */
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { headers } from "@nats-io/transport-node";
import { BrokerError, TributaryError } from "../../core/errors.js";
import type { AppendAck, AppendBatch } from "../contract.js";
import { apiCode, JS_ERR, natsError, PubAckError } from "./errors.js";
import { recordExt } from "../../core/records.js";
import { HEADERS, messageId } from "./mapping.js";

/** An expectation no stream meets (its sequence would have to reach 2^53 − 1): probes are never stored. */
const IMPOSSIBLE_LAST_SEQUENCE = String(Number.MAX_SAFE_INTEGER);
const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();

const encoder = new TextEncoder();

/**
 * The headers of one chained message, encoded in one go. nats.js only calls `encode()` on
 * the headers it publishes; building a MsgHdrs (a map, a regex check per value, a string
 * concatenation per header) cost more client CPU per message than the publish itself.
 * Message IDs and sequences never hold CR or LF, so no check is lost.
 */
function chainHeaders(id: string, expect: Tail, event = ""): MsgHdrs {
  const expectation = "msgId" in expect ? `${HEADERS.expectedLastMsgId}: ${expect.msgId}` : `${HEADERS.expectedLastSeq}: ${expect.seq}`;
  const bytes = encoder.encode(`NATS/1.0\r\n${HEADERS.msgId}: ${id}\r\n${expectation}\r\n${event}\r\n`);
  return { encode: () => bytes } as unknown as MsgHdrs;
}

/**
 * Header lines for an event's key and headers, so that any NATS client sees them (the
 * payload, the tributary record, holds them too). Names and values are percent-encoded
 * where they hold what a header line cannot (see README "Scale out with NATS JetStream").
 */
function eventHeaderLines(records: Uint8Array, at: number): string {
  const ext = recordExt(records, at);
  if (ext === undefined) return "";
  let lines = "";
  if (ext.key !== undefined) lines += `${HEADERS.key}: ${headerValue(ext.key)}\r\n`;
  for (const name in ext.headers) lines += `${HEADERS.userPrefix}${headerName(name)}: ${headerValue(ext.headers[name]!)}\r\n`;
  return lines;
}

/** A header name keeps RFC 7230 token characters; every other byte is %XX. */
const headerName = (name: string): string => encodeBytes(name, /[!#$&'*+\-.^_`|~0-9A-Za-z]/);
/** A header value keeps printable ASCII but `%`; every other byte (CR, LF, UTF-8) is %XX. */
const headerValue = (value: string): string => encodeBytes(value, /[\x20-\x24\x26-\x7e]/);

function encodeBytes(text: string, keep: RegExp): string {
  let out = "";
  for (const byte of encoder.encode(text)) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && keep.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** What the server answers to a publish. */
interface PubAck {
  seq: number;
  duplicate: boolean;
}

/** A batch accepted by `send` and not yet settled. */
interface Job {
  batch: AppendBatch;
  /** Byte offsets of the records: record i is `records[offsets[i] .. offsets[i + 1])`. */
  offsets: Uint32Array;
  /** Event IDs found so far (NaN: not known yet). */
  ids: Float64Array;
  /** First index whose ID is not known (all before it are stored). */
  from: number;
  /** Messages found already stored by probes (a re-send). */
  foundStored: number;
  resolve(ack: AppendAck): void;
  reject(err: Error): void;
  settled: boolean;
}

/** Where the next message of the chain attaches. */
type Tail = { msgId: string } | { seq: number };

export interface ChainContext {
  nc: NatsConnection;
  stream: string;
  subject: string;
  partition: number;
  tag: string;
  ackTimeoutMs: number;
  /** Reads the stream's last sequence; throws UNKNOWN_TOPIC when the stream is gone. */
  lastSequence(): Promise<number>;
}

export class PartitionChain {
  private readonly jobs: Job[] = [];
  /** Undefined until a resync found where to attach. */
  private tail: Tail | undefined;
  /** Bumped on every break: answers of an older epoch are ignored. */
  private epoch = 0;
  private resyncing = false;
  private aborted = false;

  constructor(private readonly ctx: ChainContext) {}

  /** Queues a batch; it goes out now when the chain is in sync, after the resync otherwise. */
  send(batch: AppendBatch, offsets: Uint32Array): Promise<AppendAck> {
    return new Promise<AppendAck>((resolve, reject) => {
      const job: Job = { batch, offsets, ids: new Float64Array(batch.count).fill(NaN), from: 0, foundStored: 0, resolve, reject, settled: false };
      this.jobs.push(job);
      if (this.tail !== undefined && !this.resyncing) this.publish(job);
      else void this.resync();
    });
  }

  /** Fails every pending batch (retriable) and stops: a reconnect builds a new chain. */
  abort(err: Error): void {
    this.aborted = true;
    this.epoch++;
    for (const job of this.jobs.splice(0)) this.settle(job, err);
  }

  /** Sends messages `from … count−1` of a job after the tail; the last one is a request. */
  private publish(job: Job): void {
    const { nc, subject, partition, tag } = this.ctx;
    const { batch, offsets } = job;
    const records = batch.records;
    const last = batch.count - 1;
    const start = job.from;
    let expect = this.tail!;
    let ackPromise: Promise<PubAck> | undefined;
    try {
      for (let i = start; i <= last; i++) {
        const id = messageId(tag, partition, batch.seq, i);
        const h = chainHeaders(id, expect, eventHeaderLines(records, offsets[i]!));
        const payload = records.subarray(offsets[i]!, offsets[i + 1]!);
        if (i < last) nc.publish(subject, payload, { headers: h });
        else ackPromise = this.request(payload, h);
        expect = { msgId: id };
      }
    } catch (err) {
      // A synchronous refusal of the client (closed connection, payload above max_payload).
      this.fail(job, natsError(err, `publishing to ${subject}`));
      return;
    }
    this.tail = expect;
    const epoch = this.epoch;
    ackPromise!.then(
      (ack) => {
        if (epoch !== this.epoch || job.settled) return;
        // The chain stored messages start … last back to back, the last at ack.seq.
        for (let i = start; i <= last; i++) job.ids[i] = ack.seq - 1 - (last - i);
        this.complete(job, ack.duplicate);
      },
      (err: unknown) => {
        if (epoch !== this.epoch || job.settled) return;
        const code = apiCode(err);
        if (code === JS_ERR.wrongLastMsgId || code === JS_ERR.wrongLastSequence) {
          // A predecessor is missing (lost with a leader, or another writer came first).
          this.epoch++;
          this.tail = undefined;
          void this.resync();
        } else this.fail(job, natsError(err, `appending to ${subject}`));
      },
    );
  }

  /** Finds what of the pending batches is stored, settles those, re-sends the rest in order. */
  private async resync(): Promise<void> {
    if (this.resyncing || this.aborted) return;
    this.resyncing = true;
    this.epoch++;
    const epoch = this.epoch;
    try {
      const lastSeq = await this.ctx.lastSequence();
      for (const job of [...this.jobs]) {
        if (this.epoch !== epoch) return;
        if (job.settled) continue;
        if (!(await this.locate(job))) break; // the rest of this job, and every later one, is not stored
        this.complete(job, job.foundStored === job.batch.count);
      }
      if (this.epoch !== epoch) return;
      this.tail = { seq: lastSeq };
      this.resyncing = false;
      for (const job of [...this.jobs]) if (!job.settled) this.publish(job);
    } catch (err) {
      if (this.epoch !== epoch) return;
      // The stream cannot be asked (no leader yet, gone, unreachable): every pending batch
      // fails with that error; delivery reconnects and re-sends what is retriable.
      const e = natsError(err, `resyncing ${this.ctx.stream}`);
      this.epoch++;
      this.tail = undefined;
      for (const job of this.jobs.splice(0)) this.settle(job, e);
    } finally {
      this.resyncing = false;
    }
  }

  /**
   * Probes which messages of `job` from `job.from` on are stored and records their IDs;
   * true when all are. Stored ones form a prefix (see the file comment).
   */
  private async locate(job: Job): Promise<boolean> {
    const last = job.batch.count - 1;
    const lastSeq = await this.probe(job, last);
    let end: number; // first index not stored
    let endSeq: number | undefined; // sequence of message end − 1
    if (lastSeq !== undefined) {
      end = last + 1;
      endSeq = lastSeq;
    } else {
      let lo = job.from;
      let hi = last; // invariant: messages before lo are stored, message hi is not
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const seq = await this.probe(job, mid);
        if (seq === undefined) hi = mid;
        else {
          lo = mid + 1;
          endSeq = seq;
        }
      }
      end = lo;
      if (end > job.from && endSeq === undefined) endSeq = await this.probe(job, end - 1);
    }
    if (end > job.from) await this.recordStored(job, end, endSeq!);
    return end > last;
  }

  /**
   * Records the IDs of messages `from … end−1`, known stored, the last at `endSeq`. They
   * are back to back when the first sits where that says; otherwise (the batch was
   * interrupted and another writer came in between) each is probed.
   */
  private async recordStored(job: Job, end: number, endSeq: number): Promise<void> {
    const from = job.from;
    const firstSeq = end - 1 === from ? endSeq : await this.probe(job, from);
    if (firstSeq === endSeq - (end - 1 - from)) {
      for (let i = from; i < end; i++) job.ids[i] = firstSeq - 1 + (i - from);
    } else {
      for (let i = from; i < end; i++) {
        const seq = await this.probe(job, i);
        if (seq === undefined) throw new BrokerError("UNKNOWN", `${this.ctx.stream}: message ${i} of batch ${job.batch.seq} vanished while resyncing`);
        job.ids[i] = seq - 1;
      }
    }
    job.foundStored += end - from;
    job.from = end;
  }

  /** The sequence message `index` of `job` is stored at, or undefined when it is not stored. */
  private async probe(job: Job, index: number): Promise<number | undefined> {
    const h = headers();
    h.set(HEADERS.msgId, messageId(this.ctx.tag, this.ctx.partition, job.batch.seq, index));
    h.set(HEADERS.expectedLastSeq, IMPOSSIBLE_LAST_SEQUENCE);
    try {
      const ack = await this.request(EMPTY, h);
      if (!ack.duplicate) throw new BrokerError("UNKNOWN", `${this.ctx.stream}: a probe was stored at ${ack.seq}`);
      return ack.seq;
    } catch (err) {
      if (apiCode(err) === JS_ERR.wrongLastSequence) return undefined;
      throw err;
    }
  }

  /** One acknowledged publish; a refusal in the answer throws a PubAckError. */
  private async request(payload: Uint8Array, h: MsgHdrs): Promise<PubAck> {
    const msg = await this.ctx.nc.request(this.ctx.subject, payload, { headers: h, timeout: this.ctx.ackTimeoutMs });
    const res = JSON.parse(decoder.decode(msg.data)) as { seq?: number; duplicate?: boolean; error?: { code: number; err_code: number; description: string } };
    if (res.error) throw new PubAckError(res.error.err_code, res.error.code, res.error.description);
    if (typeof res.seq !== "number") throw new BrokerError("UNKNOWN", `${this.ctx.stream}: unexpected publish answer ${decoder.decode(msg.data)}`);
    return { seq: res.seq, duplicate: res.duplicate === true };
  }

  private complete(job: Job, duplicate: boolean): void {
    job.settled = true;
    const first = job.ids[0]!;
    let contiguous = true;
    for (let i = 1; i < job.ids.length && contiguous; i++) contiguous = job.ids[i] === first + i;
    const ack: AppendAck = { firstEventId: first, count: job.batch.count, duplicate };
    if (!contiguous) ack.ids = job.ids;
    this.drop(job);
    job.resolve(ack);
  }

  /**
   * A batch failed. Retriable: the chain's state is unknown, so every pending batch fails
   * alike (delivery reconnects and re-sends them all; the next send resyncs first). Not
   * retriable (a refusal of this batch): only it fails; the batches chained behind it are
   * refused for want of their predecessor and resync.
   */
  private fail(job: Job, err: TributaryError): void {
    if (!err.retriable) {
      this.settle(job, err);
      this.drop(job);
      return;
    }
    this.epoch++;
    this.tail = undefined;
    for (const pending of this.jobs.splice(0)) this.settle(pending, err);
  }

  private settle(job: Job, err: Error): void {
    if (job.settled) return;
    job.settled = true;
    job.reject(err);
  }

  private drop(job: Job): void {
    const at = this.jobs.indexOf(job);
    if (at >= 0) this.jobs.splice(at, 1);
  }
}
