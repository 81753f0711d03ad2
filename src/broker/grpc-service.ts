/**
 * Translates gRPC calls into Broker operations and BrokerFailures into gRPC statuses.
 * Every call ends with a status: unary calls through their callback, streams through
 * `call.emit("error", …)`, which is how grpc-js sends a status on a server stream
 * (`destroy(err)` ends the stream without one, and the client waits forever).
 */
import grpc, { type sendUnaryData, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream } from "@grpc/grpc-js";
import type { Authenticator, Role } from "./auth.js";
import { Broker } from "./broker.js";
import { BrokerFailure, ERROR_CODE_KEY, quotaExceeded } from "./failures.js";
import { serveRead } from "./read-stream.js";
import {
  ErrorCode,
  MalformedMessage,
  type AppendRequest,
  type AppendResponse,
  type CommitCursorRequest,
  type CreateTopicRequest,
  type FetchCursorRequest,
  type ReadRequest,
  type ReadResponse,
  type TopicRef,
} from "../protocol/protocol.js";

export interface ServiceOptions {
  /** Token check per call; undefined: every caller may do everything. */
  auth?: Authenticator;
}

function toServiceError(err: unknown): grpc.ServiceError {
  const failure = err instanceof BrokerFailure ? err : new BrokerFailure("UNKNOWN", (err as Error)?.message ?? String(err));
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_KEY, failure.code);
  return Object.assign(new Error(failure.message), { code: failure.grpcStatus, details: failure.message, metadata });
}

/** Ends a server stream with the status of `err`. */
function failStream(call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>, err: unknown): void {
  if (!call.cancelled) call.emit("error", toServiceError(err));
}

const malformed = (req: unknown): BrokerFailure | undefined =>
  req instanceof MalformedMessage ? new BrokerFailure("INVALID_ARGUMENT", req.problem) : undefined;

/** Open Append and Read streams against the maxOpenStreams quota. */
class StreamSlots {
  private open = 0;
  constructor(private readonly max: number) {}

  /** Takes a slot for `call`, given back once the call is over, whichever way it ends. */
  take(call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>): void {
    if (this.open >= this.max) throw quotaExceeded("maxOpenStreams", this.max, `${this.open} streams are open`);
    this.open++;
    let held = true;
    const release = (): void => {
      if (held) this.open--;
      held = false;
    };
    call.once("close", release);
    call.once("finish", release);
    call.once("cancelled", release);
  }
}

const appendErrorCode = (failure: BrokerFailure): number =>
  failure.code in ErrorCode ? ErrorCode[failure.code as keyof typeof ErrorCode] : ErrorCode.INVALID_ARGUMENT;

/** Handles one Append stream: acks leave in the order their batches arrived. */
function append(broker: Broker, call: ServerDuplexStream<AppendRequest | MalformedMessage, AppendResponse>): void {
  let queue: Promise<void> = Promise.resolve();
  let waiting = 0;
  let failed = false;
  const send = (res: AppendResponse): void => {
    if (!call.write(res)) {
      call.pause();
      call.once("drain", () => call.resume());
    }
  };
  call.on("data", (req: AppendRequest | MalformedMessage) => {
    if (failed) return;
    const bad = malformed(req);
    if (bad) {
      // Its batch sequence is unknown, so no ack can answer it: the stream ends with
      // INVALID_ARGUMENT once the acks before it are out.
      failed = true;
      call.pause();
      void queue.then(() => failStream(call, bad));
      return;
    }
    const r0 = req as AppendRequest;
    let res: AppendResponse;
    let durable: Promise<void> | undefined;
    const batchSeq = Number(r0.batchSeq ?? 0);
    const partition = r0.partition ?? 0;
    try {
      const r = broker.append(r0.topic ?? "", partition, r0.producerId ?? "", batchSeq, r0.count ?? 0, r0.records ?? new Uint8Array(0), r0.topicId ?? "");
      res = { batchSeq, partition, firstEventId: r.firstEventId, count: r.count, duplicate: r.duplicate };
      durable = r.durable;
    } catch (err) {
      const failure = err instanceof BrokerFailure ? err : new BrokerFailure("UNKNOWN", String(err));
      res = { batchSeq, partition, firstEventId: 0, count: 0, duplicate: false, error: { code: appendErrorCode(failure), message: failure.message } };
    }
    if (!durable && waiting === 0) return send(res);
    // An earlier ack still waits for its fsync: queue behind it to keep the order. The
    // outcome is taken at once, so a failed fsync is never an unhandled rejection while
    // it waits its turn.
    waiting++;
    const outcome = (durable ?? Promise.resolve()).then(
      () => res,
      (err: Error): AppendResponse => ({ ...res, firstEventId: 0, count: 0, error: { code: ErrorCode.STORAGE, message: `batch written but fsync failed, durability unknown: ${err.message}` } }),
    );
    queue = queue
      .then(() => outcome)
      .then(send)
      .finally(() => waiting--);
  });
  call.on("end", () => void queue.then(() => !failed && call.end()));
  call.on("error", () => {});
}

/** The implementation object for `server.addService(brokerService, …)`. */
export function brokerHandlers(broker: Broker, options: ServiceOptions = {}): grpc.UntypedServiceImplementation {
  const slots = new StreamSlots(broker.limits.maxOpenStreams);
  const check = (metadata: grpc.Metadata, role: Role, what: string): void => options.auth?.authorize(metadata, role, what);

  function unary<Req, Res>(role: Role, method: string, fn: (req: Req) => Res | Promise<Res>) {
    return (call: ServerUnaryCall<Req | MalformedMessage, Res>, callback: sendUnaryData<Res>): void => {
      let result: Res | Promise<Res>;
      try {
        const bad = malformed(call.request);
        if (bad) throw bad;
        check(call.metadata, role, method);
        result = fn(call.request as Req);
      } catch (err) {
        return callback(toServiceError(err));
      }
      if (!(result instanceof Promise)) return callback(null, result);
      result.then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err)),
      );
    };
  }

  return {
    createTopic: unary("admin", "CreateTopic", (req: CreateTopicRequest) => broker.createTopic(req)),
    describeTopic: unary("produce", "DescribeTopic", (req: TopicRef) => broker.describeTopic(req.name)),
    listTopics: unary("produce", "ListTopics", () => ({ topics: broker.listTopics() })),
    deleteTopic: unary("admin", "DeleteTopic", (req: TopicRef) => ({ deleted: broker.deleteTopic(req.name) })),
    append: (call: ServerDuplexStream<AppendRequest | MalformedMessage, AppendResponse>) => {
      try {
        check(call.metadata, "produce", "Append");
        slots.take(call);
      } catch (err) {
        return failStream(call, err);
      }
      append(broker, call);
    },
    read: (call: ServerWritableStream<ReadRequest | MalformedMessage, ReadResponse>) => {
      const abort = new AbortController();
      call.once("cancelled", () => abort.abort());
      try {
        const bad = malformed(call.request);
        if (bad) throw bad;
        check(call.metadata, "produce", "Read");
        slots.take(call);
      } catch (err) {
        return failStream(call, err);
      }
      serveRead(broker, call as ServerWritableStream<ReadRequest, ReadResponse>, abort.signal).catch((err: unknown) => failStream(call, err));
    },
    commitCursor: unary("produce", "CommitCursor", async (req: CommitCursorRequest) => {
      await broker.commitCursor(req.topic, req.consumer, req.partition, Number(req.nextOffset), Number(req.generation ?? 0));
      return {};
    }),
    fetchCursor: unary("produce", "FetchCursor", async (req: FetchCursorRequest) => {
      const cursor = await broker.fetchCursor(req.topic, req.consumer, req.partition, req.claim ?? false);
      return { found: cursor.nextOffset !== undefined, nextOffset: cursor.nextOffset ?? 0, generation: cursor.generation };
    }),
  };
}
