/**
 * Serves one Read stream: events of a partition from a start position, in follow mode
 * until cancelled, with flow control.
 *
 * Flow control: grpc-js buffers 16 messages per stream before `write()` says stop, and
 * a client that never reads lets them pile up (16 MiB a stream). Here every message's
 * bytes count until grpc-js reports it written to the connection; past
 * `readStreamBufferBytes` the stream stops reading the log, drops what it read, waits,
 * and reads again from where it stopped. A stream thus holds about that budget (times
 * the copies grpc-js makes while it serializes) plus one batch while reading it,
 * whatever its client does.
 */
import type { ServerWritableStream } from "@grpc/grpc-js";
import type { Broker } from "./broker.js";
import { BrokerFailure } from "./failures.js";
import type { PartitionLog } from "./partition-log.js";
import { recordOffset, recordsWithin } from "../core/records.js";
import type { ReadRequest, ReadResponse } from "../protocol/protocol.js";

/** Most record bytes in one Read response (at least one record): a few fit in the send budget. */
const MESSAGE_BYTES = 128 * 1024;

type ReadCall = ServerWritableStream<ReadRequest, ReadResponse>;

/** Bytes written to a call and not yet reported sent, against a budget. */
class SendBudget {
  private outstanding = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly call: ReadCall, private readonly budget: number, private readonly signal: AbortSignal) {
    call.on("drain", () => this.release(0));
    signal.addEventListener("abort", () => this.wake?.(), { once: true });
  }

  get full(): boolean {
    return this.outstanding >= this.budget || this.call.writableNeedDrain;
  }

  write(message: ReadResponse): void {
    const bytes = message.records.byteLength + 64;
    this.outstanding += bytes;
    this.call.write(message, () => this.release(bytes));
  }

  /** Resolves once below the budget again, or when the stream is cancelled. */
  room(): Promise<void> {
    if (!this.full || this.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => (this.wake = resolve)).then(() => this.room());
  }

  private release(bytes: number): void {
    this.outstanding -= bytes;
    if (!this.full && this.wake) {
      const wake = this.wake;
      this.wake = undefined;
      wake();
    }
  }
}

function startOffset(log: PartitionLog, req: ReadRequest): number {
  switch (req.start) {
    case "offset":
      return Number(req.offset);
    case "latest":
      return log.nextOffset;
    case "timestampMs": {
      const t = req.timestampMs ?? 0;
      if (!(t >= 0)) throw new BrokerFailure("INVALID_ARGUMENT", `read start time ${t} is not a time (ms since 1970, >= 0)`);
      return log.offsetForTime(t);
    }
    default:
      return log.startOffset;
  }
}

/**
 * Streams the events; resolves when the stream ended or was cancelled. Throws a
 * BrokerFailure (unknown topic, bad start, CORRUPT) for the caller to send as status.
 */
export async function serveRead(broker: Broker, call: ReadCall, signal: AbortSignal): Promise<void> {
  const req = call.request;
  const log = broker.partition(req.topic, req.partition);
  let at = startOffset(log, req);
  let remaining = Number(req.maxEvents) > 0 ? Number(req.maxEvents) : Infinity;
  const budget = new SendBudget(call, broker.limits.readStreamBufferBytes, signal);
  while (!signal.aborted && remaining > 0 && !log.isClosed) {
    if (budget.full) {
      await budget.room();
      continue;
    }
    const { chunks, next } = log.read(at, MESSAGE_BYTES);
    if (chunks.length === 0) {
      at = next;
      if (!req.follow) break;
      await log.waitFor(at, signal);
      continue;
    }
    // Send while there is room; when the budget is spent, what was read is dropped (the
    // loop reads again from `at`) rather than held for a client that may never read.
    send: for (const chunk of chunks) {
      let { firstEventId, count, records } = chunk;
      while (count > 0 && remaining > 0) {
        if (budget.full || signal.aborted) break send;
        const n = Math.min(recordsWithin(records, count, MESSAGE_BYTES), remaining);
        const end = recordOffset(records, n);
        const piece = records.subarray(0, end);
        // A piece of a large batch is copied: a view would keep the whole batch in memory
        // for as long as the piece waits to be sent.
        const bytes = piece.buffer.byteLength > 2 * piece.byteLength ? Buffer.from(piece) : piece;
        budget.write({ partition: req.partition, firstEventId, count: n, timestampMs: chunk.timestampMs, records: bytes });
        firstEventId += n;
        count -= n;
        remaining -= n;
        records = records.subarray(end);
        at = firstEventId;
      }
    }
  }
  if (!signal.aborted) call.end();
}
