/**
 * Loads proto/tributary.proto with protobufjs and turns it into a grpc-js service
 * definition. The .proto file stays the single source of wire truth; no generated code.
 */
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import type { ServiceDefinition } from "@grpc/grpc-js";
import { MalformedMessage, strictDecoder } from "./strict-decode.js";

export { MalformedMessage };

// Event IDs stay below 2^53: decode uint64 as plain numbers instead of Long objects.
(protobuf.util as { Long: unknown }).Long = undefined;
protobuf.configure();

/** Path of the .proto file shipped in the package. */
export const PROTO_PATH = fileURLToPath(new URL("../../../proto/tributary.proto", import.meta.url));

const root = protobuf.loadSync(PROTO_PATH);

export interface PluginSpecMsg {
  module: string;
  exportName: string;
  configJson: string;
}
export interface CreateTopicRequest {
  name: string;
  partitions: number;
  validator?: PluginSpecMsg;
  partitionSelector?: PluginSpecMsg;
  serializer?: PluginSpecMsg;
}
export interface TopicRef {
  name: string;
}
export interface PartitionInfo {
  partition: number;
  nextOffset: number;
  sizeBytes: number;
}
export interface TopicInfo {
  name: string;
  partitions: number;
  validator?: PluginSpecMsg;
  partitionSelector?: PluginSpecMsg;
  serializer?: PluginSpecMsg;
  partitionInfo: PartitionInfo[];
  createdAtMs: number;
  /** Identity of this incarnation of the name; appends carry it (empty from brokers before 0.2). */
  topicId?: string;
}
export interface ListTopicsResponse {
  topics: TopicInfo[];
}
export interface DeleteTopicResponse {
  deleted: boolean;
}
/** Numeric values of the proto enum ErrorCode. */
export const ErrorCode = {
  UNSPECIFIED: 0,
  UNKNOWN_TOPIC: 1,
  BAD_PARTITION: 2,
  BATCH_TOO_LARGE: 3,
  EVENT_TOO_LARGE: 4,
  MALFORMED_BATCH: 5,
  INVALID_ARGUMENT: 6,
  STORAGE: 7,
  INVALID_TOPIC_NAME: 8,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;
export const errorCodeName = (code: number): ErrorCodeName =>
  ((Object.keys(ErrorCode) as ErrorCodeName[]).find((k) => ErrorCode[k] === code) ?? "UNSPECIFIED");

export interface AppendRequest {
  topic: string;
  partition: number;
  producerId: string;
  batchSeq: number;
  count: number;
  records: Uint8Array;
  /** TopicInfo.topicId of the topic the producer opened; empty: not checked. */
  topicId?: string;
}
export interface AppendResponse {
  batchSeq: number;
  partition: number;
  firstEventId: number;
  count: number;
  error?: { code: number; message: string } | null;
  duplicate: boolean;
}
export interface ReadRequest {
  topic: string;
  partition: number;
  earliest?: boolean;
  latest?: boolean;
  offset?: number;
  timestampMs?: number;
  follow: boolean;
  maxEvents: number;
  /** Which start field is set (filled in on decode). */
  start?: "earliest" | "latest" | "offset" | "timestampMs";
}
export interface ReadResponse {
  partition: number;
  firstEventId: number;
  count: number;
  timestampMs: number;
  records: Uint8Array;
}
export interface CommitCursorRequest {
  topic: string;
  consumer: string;
  partition: number;
  nextOffset: number;
  /** Generation from FetchCursor(claim); 0: no fencing. */
  generation?: number;
}
export interface FetchCursorRequest {
  topic: string;
  consumer: string;
  partition: number;
  /** Claim the cursor for a new instance: bumps its generation. */
  claim?: boolean;
}
export interface FetchCursorResponse {
  found: boolean;
  nextOffset: number;
  generation: number;
}

function codec<T>(typeName: string) {
  const type = root.lookupType(`tributary.v1.${typeName}`);
  // defaults: true fills absent scalars, so readers never see undefined numbers.
  const deserialize = (buf: Buffer): T => type.toObject(type.decode(buf), { defaults: true, longs: Number, oneofs: true, bytes: Buffer }) as T;
  return {
    serialize: (value: T): Buffer => {
      const bytes = type.encode(type.fromObject(value as Record<string, unknown>)).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    // Responses stay lenient (a newer broker may add fields); requests are checked strictly.
    deserialize,
    strictDeserialize: strictDecoder(type, deserialize),
  };
}

/**
 * AppendRequest is the hot path: encode it directly instead of going through fromObject,
 * so the record blob is copied once into the frame and never converted.
 */
const appendRequestType = root.lookupType("tributary.v1.AppendRequest");
const appendCodec = {
  serialize: (value: AppendRequest): Buffer => {
    const bytes = appendRequestType.encode(value).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
  deserialize: strictDecoder(appendRequestType, (buf: Buffer): AppendRequest => appendRequestType.decode(buf) as unknown as AppendRequest),
};
const readResponseType = root.lookupType("tributary.v1.ReadResponse");
const readResponseCodec = {
  serialize: (value: ReadResponse): Buffer => {
    const bytes = readResponseType.encode(value).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
  deserialize: (buf: Buffer): ReadResponse => {
    const msg = readResponseType.decode(buf) as unknown as ReadResponse;
    return { partition: msg.partition ?? 0, firstEventId: Number(msg.firstEventId ?? 0), count: msg.count ?? 0,
      timestampMs: msg.timestampMs ?? 0, records: msg.records ?? new Uint8Array(0) };
  },
};

function unary<Req, Res>(name: string, req: string, res: string) {
  const a = codec<Req>(req);
  const b = codec<Res>(res);
  return {
    path: `/tributary.v1.Broker/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: a.serialize,
    requestDeserialize: a.strictDeserialize,
    responseSerialize: b.serialize,
    responseDeserialize: b.deserialize,
  };
}

const appendResponse = codec<AppendResponse>("AppendResponse");
const readRequest = codec<ReadRequest>("ReadRequest");

/** grpc-js service definition of `tributary.v1.Broker`. */
export const brokerService = {
  createTopic: unary<CreateTopicRequest, TopicInfo>("CreateTopic", "CreateTopicRequest", "TopicInfo"),
  describeTopic: unary<TopicRef, TopicInfo>("DescribeTopic", "TopicRef", "TopicInfo"),
  listTopics: unary<Record<string, never>, ListTopicsResponse>("ListTopics", "ListTopicsRequest", "ListTopicsResponse"),
  deleteTopic: unary<TopicRef, DeleteTopicResponse>("DeleteTopic", "TopicRef", "DeleteTopicResponse"),
  append: {
    path: "/tributary.v1.Broker/Append",
    requestStream: true,
    responseStream: true,
    requestSerialize: appendCodec.serialize,
    requestDeserialize: appendCodec.deserialize,
    responseSerialize: appendResponse.serialize,
    responseDeserialize: appendResponse.deserialize,
  },
  read: {
    path: "/tributary.v1.Broker/Read",
    requestStream: false,
    responseStream: true,
    requestSerialize: readRequest.serialize,
    requestDeserialize: readRequest.strictDeserialize,
    responseSerialize: readResponseCodec.serialize,
    responseDeserialize: readResponseCodec.deserialize,
  },
  commitCursor: unary<CommitCursorRequest, Record<string, never>>("CommitCursor", "CommitCursorRequest", "CommitCursorResponse"),
  fetchCursor: unary<FetchCursorRequest, FetchCursorResponse>("FetchCursor", "FetchCursorRequest", "FetchCursorResponse"),
} satisfies ServiceDefinition;
