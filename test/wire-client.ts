/**
 * A gRPC client of the broker that sends raw bytes: for the wire tests and the fuzzer,
 * which must get damaged messages past the encoder.
 */
import grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { brokerService, PROTO_PATH } from "../dist/src/protocol/protocol.js";
import { ERROR_CODE_KEY } from "../dist/src/broker/failures.js";

const identity = (b: Buffer): Buffer => b;
const rawService = Object.fromEntries(
  Object.entries(brokerService).map(([name, def]) => [
    name,
    { ...def, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  ]),
);
const RawStub = grpc.makeGenericClientConstructor(rawService, "RawBroker");
export type RawStub = InstanceType<typeof RawStub> & Record<string, (...args: any[]) => any>;

export const protoRoot = protobuf.loadSync(PROTO_PATH);
export const messageType = (name: string): protobuf.Type => protoRoot.lookupType(`tributary.v1.${name}`);
export const encode = (type: string, value: Record<string, unknown>): Buffer => Buffer.from(messageType(type).encode(messageType(type).fromObject(value)).finish());

export function rawClient(url: string): RawStub {
  return new RawStub(url.replace(/^tributary:\/\//, ""), grpc.credentials.createInsecure()) as RawStub;
}

/** How a call ended: its gRPC status code, the tributary error code, the details, the responses. */
export interface Outcome {
  code: number;
  errorCode: string | undefined;
  details: string;
  responses: Buffer[];
}

const outcomeOf = (err: grpc.ServiceError | null, responses: Buffer[]): Outcome => ({
  code: err ? err.code : grpc.status.OK,
  errorCode: err?.metadata?.get(ERROR_CODE_KEY)?.[0] as string | undefined,
  details: err?.details ?? "",
  responses,
});

export function callUnary(stub: RawStub, method: string, request: Buffer, deadlineMs = 5000): Promise<Outcome> {
  return new Promise((resolve) =>
    stub[method]!(request, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: Buffer) => resolve(outcomeOf(err, res ? [res] : []))),
  );
}

/** A server-streaming Read; `cancelAfterMs` ends a stream that is legitimately still following. */
export function callRead(stub: RawStub, request: Buffer, deadlineMs = 5000, cancelAfterMs?: number): Promise<Outcome & { cancelledByUs: boolean }> {
  return new Promise((resolve) => {
    const responses: Buffer[] = [];
    const call = stub.read(request, { deadline: Date.now() + deadlineMs }) as grpc.ClientReadableStream<Buffer>;
    let cancelledByUs = false;
    const timer = cancelAfterMs === undefined ? undefined : setTimeout(() => ((cancelledByUs = true), call.cancel()), cancelAfterMs);
    call.on("data", (b: Buffer) => responses.push(b));
    call.on("error", () => {});
    call.on("status", (s: grpc.StatusObject) => {
      clearTimeout(timer);
      resolve({ ...outcomeOf(s.code === grpc.status.OK ? null : (Object.assign(new Error(s.details), s) as grpc.ServiceError), responses), cancelledByUs });
    });
  });
}

/** An Append stream: writes `requests`, half-closes, and waits for the status. */
export function callAppend(stub: RawStub, requests: Buffer[], deadlineMs = 5000): Promise<Outcome> {
  return new Promise((resolve) => {
    const responses: Buffer[] = [];
    const call = stub.append({ deadline: Date.now() + deadlineMs }) as grpc.ClientDuplexStream<Buffer, Buffer>;
    call.on("data", (b: Buffer) => responses.push(b));
    call.on("error", () => {});
    call.on("status", (s: grpc.StatusObject) =>
      resolve(outcomeOf(s.code === grpc.status.OK ? null : (Object.assign(new Error(s.details), s) as grpc.ServiceError), responses)),
    );
    for (const r of requests) call.write(r);
    call.end();
  });
}
