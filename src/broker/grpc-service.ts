/** Translates gRPC calls into Broker operations and BrokerFailures into gRPC statuses. */
import grpc, { type sendUnaryData, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream } from "@grpc/grpc-js";
import { Broker } from "./broker.js";
import { BrokerFailure, ERROR_CODE_KEY } from "./failures.js";
import { ErrorCode, type AppendRequest, type AppendResponse, type ReadRequest, type ReadResponse } from "../protocol/protocol.js";
import type { PartitionLog } from "./partition-log.js";

/** Records per Read response message, at most about this many bytes (one batch at least). */
const READ_CHUNK_BYTES = 1024 * 1024;

function toServiceError(err: unknown): grpc.ServiceError {
  const failure = err instanceof BrokerFailure ? err : new BrokerFailure("UNKNOWN", (err as Error)?.message ?? String(err));
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_KEY, failure.code);
  return Object.assign(new Error(failure.message), { code: failure.grpcStatus, details: failure.message, metadata });
}

function unary<Req, Res>(fn: (req: Req) => Res) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    try {
      callback(null, fn(call.request));
    } catch (err) {
      callback(toServiceError(err));
    }
  };
}

const appendErrorCode = (failure: BrokerFailure): number =>
  failure.code in ErrorCode ? ErrorCode[failure.code as keyof typeof ErrorCode] : ErrorCode.INVALID_ARGUMENT;

/** Handles one Append stream: acks leave in the order their batches arrived. */
function append(broker: Broker, call: ServerDuplexStream<AppendRequest, AppendResponse>): void {
  let queue: Promise<void> = Promise.resolve();
  let waiting = 0;
  const send = (res: AppendResponse): void => {
    if (!call.write(res)) {
      call.pause();
      call.once("drain", () => call.resume());
    }
  };
  call.on("data", (req: AppendRequest) => {
    let res: AppendResponse;
    let durable: Promise<void> | undefined;
    const batchSeq = Number(req.batchSeq ?? 0);
    const partition = req.partition ?? 0;
    try {
      const r = broker.append(req.topic ?? "", partition, req.producerId ?? "", batchSeq, req.count ?? 0, req.records ?? new Uint8Array(0));
      res = { batchSeq, partition, firstEventId: r.firstEventId, count: r.count, duplicate: r.duplicate };
      durable = r.durable;
    } catch (err) {
      const failure = err instanceof BrokerFailure ? err : new BrokerFailure("UNKNOWN", String(err));
      res = { batchSeq, partition, firstEventId: 0, count: 0, duplicate: false, error: { code: appendErrorCode(failure), message: failure.message } };
    }
    if (!durable && waiting === 0) return send(res);
    // An earlier ack still waits for its fsync: queue behind it to keep the order.
    waiting++;
    const wait = durable ?? Promise.resolve();
    queue = queue
      .then(() => wait)
      .then(
        () => send(res),
        (err: Error) => send({ ...res, firstEventId: 0, count: 0, error: { code: ErrorCode.STORAGE, message: `batch written but fsync failed, durability unknown: ${err.message}` } }),
      )
      .finally(() => waiting--);
  });
  call.on("end", () => void queue.then(() => call.end()));
  call.on("error", () => {});
}

function startOffset(log: PartitionLog, req: ReadRequest): number {
  switch (req.start) {
    case "offset":
      return Number(req.offset);
    case "latest":
      return log.nextOffset;
    case "timestampMs":
      return log.offsetForTime(req.timestampMs ?? 0);
    default:
      return log.startOffset;
  }
}

/** Streams events of one partition; in follow mode waits for new ones until cancelled. */
async function read(broker: Broker, call: ServerWritableStream<ReadRequest, ReadResponse>): Promise<void> {
  const req = call.request;
  let log: PartitionLog;
  try {
    log = broker.partition(req.topic, req.partition);
  } catch (err) {
    call.emit("error", toServiceError(err));
    return;
  }
  let at = startOffset(log, req);
  let remaining = Number(req.maxEvents) > 0 ? Number(req.maxEvents) : Infinity;
  let cancelled = false;
  const stopped = new Promise<void>((resolve) => call.on("cancelled", () => ((cancelled = true), resolve())));
  try {
    while (!cancelled && remaining > 0 && !log.isClosed) {
      const chunks = log.read(at, READ_CHUNK_BYTES);
      if (chunks.length === 0) {
        if (!req.follow) break;
        await Promise.race([log.waitFor(at), stopped]);
        continue;
      }
      for (const chunk of chunks) {
        let { count, records } = chunk;
        if (count > remaining) {
          count = remaining;
          records = records.subarray(0, nthRecordEnd(records, count));
        }
        const more = call.write({ partition: req.partition, firstEventId: chunk.firstEventId, count, timestampMs: chunk.timestampMs, records });
        at = chunk.firstEventId + count;
        remaining -= count;
        if (!more) await Promise.race([new Promise((resolve) => call.once("drain", resolve)), stopped]);
        if (cancelled || remaining <= 0) break;
      }
    }
    if (!cancelled) call.end();
  } catch (err) {
    call.emit("error", toServiceError(err));
  }
}

function nthRecordEnd(records: Buffer, n: number): number {
  let at = 0;
  for (let i = 0; i < n; i++) at += 8 + records.readUInt32LE(at) + records.readUInt32LE(at + 4);
  return at;
}

/** The implementation object for `server.addService(brokerService, …)`. */
export function brokerHandlers(broker: Broker): grpc.UntypedServiceImplementation {
  return {
    createTopic: unary((req: Parameters<Broker["createTopic"]>[0]) => broker.createTopic(req)),
    describeTopic: unary((req: { name: string }) => broker.describeTopic(req.name)),
    listTopics: unary(() => ({ topics: broker.listTopics() })),
    deleteTopic: unary((req: { name: string }) => ({ deleted: broker.deleteTopic(req.name) })),
    append: (call: ServerDuplexStream<AppendRequest, AppendResponse>) => append(broker, call),
    read: (call: ServerWritableStream<ReadRequest, ReadResponse>) => void read(broker, call),
    commitCursor: unary((req: { topic: string; consumer: string; partition: number; nextOffset: number }) => {
      broker.commitCursor(req.topic, req.consumer, req.partition, Number(req.nextOffset));
      return {};
    }),
    fetchCursor: unary((req: { topic: string; consumer: string; partition: number }) => {
      const next = broker.fetchCursor(req.topic, req.consumer, req.partition);
      return { found: next !== undefined, nextOffset: next ?? 0 };
    }),
  };
}
