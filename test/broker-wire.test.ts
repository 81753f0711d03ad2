/**
 * Strict decoding (issue 9, defect 10): malformed requests are refused with
 * INVALID_ARGUMENT naming the problem, valid ones of unusual shape are served, and
 * values outside the protocol's range are refused.
 */
import grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient } from "../dist/src/drivers/tributary/broker-client.js";
import { batch } from "./broker-helpers.js";
import { removeDir, testBroker } from "./helpers.js";
import { callAppend, callRead, callUnary, encode, messageType, rawClient, type RawStub } from "./wire-client.js";

let broker: Awaited<ReturnType<typeof testBroker>>;
let client: BrokerClient;
let raw: RawStub;

beforeAll(async () => {
  broker = await testBroker();
  client = new BrokerClient(broker.url);
  raw = rawClient(broker.url);
  await client.createTopic({ name: "fz", partitions: 2 });
  await client.openAppendStream().append({ topic: "fz", partition: 0, producerId: "p", batchSeq: 0, count: 3, records: batch("w", 3) });
});
afterAll(async () => {
  raw.close();
  client.close();
  await broker.close();
  removeDir(broker.dir);
});

const invalid = { code: grpc.status.INVALID_ARGUMENT, errorCode: "INVALID_ARGUMENT" };

describe("strict decoding", () => {
  it("refuses a DeleteTopic whose name length was damaged instead of deleting the prefix", async () => {
    // TopicRef{name:"fz-not!"} with its length byte changed from 7 to 2: protobufjs reads
    // name "fz" and skips "-not!" as an unknown fixed32 field.
    const damaged = Buffer.concat([Buffer.from([0x0a, 0x02]), Buffer.from("fz-not!")]);
    expect(messageType("TopicRef").decode(damaged)).toMatchObject({ name: "fz" });
    const out = await callUnary(raw, "deleteTopic", damaged);
    expect(out).toMatchObject({ ...invalid, details: expect.stringContaining("unknown field number 5 in TopicRef") });
    expect((await client.describeTopic("fz")).partitions).toBe(2);
  });

  it("refuses truncated fields, twice-set fields and two start positions", async () => {
    const full = encode("TopicRef", { name: "fz" });
    expect(await callUnary(raw, "describeTopic", full.subarray(0, full.byteLength - 1))).toMatchObject({ ...invalid, details: expect.stringContaining("claims 2 bytes") });
    expect(await callUnary(raw, "describeTopic", Buffer.concat([full, full]))).toMatchObject({ ...invalid, details: expect.stringContaining("appears twice") });
    const both = Buffer.concat([encode("ReadRequest", { topic: "fz", earliest: true }), encode("ReadRequest", { latest: true })]);
    expect(await callRead(raw, both)).toMatchObject({ ...invalid, details: expect.stringContaining("both set") });
    const badUtf8 = Buffer.from([0x0a, 0x02, 0xc3, 0x28]);
    expect(await callUnary(raw, "describeTopic", badUtf8)).toMatchObject({ ...invalid, details: expect.stringContaining("not valid UTF-8") });
  });

  it("serves valid long varints and refuses values the protocol does not carry", async () => {
    // partition 0 as a 10-byte varint: unusual but valid.
    const longZero = Buffer.concat([encode("ReadRequest", { topic: "fz", earliest: true }), Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])]);
    const read = await callRead(raw, longZero);
    expect(read.code).toBe(grpc.status.OK);
    expect(read.responses).toHaveLength(1);
    // offset 2^60: a valid uint64, but event IDs stay below 2^53.
    const huge = encode("ReadRequest", { topic: "fz", offset: "1152921504606846976" });
    expect(await callRead(raw, huge)).toMatchObject({ ...invalid, details: expect.stringContaining("above 2^53-1") });
    // batch_seq 2^64-1 (field 4), written by hand: the encoder would not produce it.
    const maxVarint = Buffer.from([0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const hugeSeq = Buffer.concat([encode("AppendRequest", { topic: "fz", partition: 0, producerId: "p", count: 1, records: batch("x", 1) }), maxVarint]);
    expect(await callAppend(raw, [hugeSeq])).toMatchObject({ ...invalid, details: expect.stringContaining("batchSeq") });
  });

  it("refuses a NaN, infinite or negative read start time", async () => {
    for (const timestampMs of [NaN, Infinity, -Infinity]) {
      expect(await callRead(raw, encode("ReadRequest", { topic: "fz", timestampMs }))).toMatchObject({ ...invalid, details: expect.stringContaining("not a finite number") });
    }
    expect(await callRead(raw, encode("ReadRequest", { topic: "fz", timestampMs: -5 }))).toMatchObject({ ...invalid, details: expect.stringContaining("-5 is not a time") });
  });

  it("refuses a topic whose plugins would load from data: or http(s): URLs", async () => {
    const code = "data:text/javascript,import('node:fs').then((fs)=>fs.writeFileSync('/tmp/pwned',''))";
    for (const module of [code, "https://evil.example/x.js", "HTTP://evil.example/x.js", "blob:nodedata:1"]) {
      const out = await callUnary(raw, "createTopic", encode("CreateTopicRequest", { name: "hostile", partitions: 1, serializer: { module, exportName: "default" } }));
      expect(out).toMatchObject({ ...invalid, details: expect.stringMatching(/serializer module .* scheme; plugins load from package names, paths and file: URLs only/) });
    }
    await expect(client.describeTopic("hostile")).rejects.toMatchObject({ code: "UNKNOWN_TOPIC" });
    for (const module of ["json", "@acme/plugins", "./energy.js", "file:///srv/plugins/energy.js", "C:\\plugins\\energy.js"]) {
      const out = await callUnary(raw, "createTopic", encode("CreateTopicRequest", { name: `ok-${module.length}`, partitions: 1, validator: { module, exportName: "default" } }));
      expect(out.code).toBe(grpc.status.OK);
    }
  });

  it("ends an Append stream at a malformed request, after the acks of the batches before it", async () => {
    const good = encode("AppendRequest", { topic: "fz", partition: 1, producerId: "w", batchSeq: 1, count: 1, records: batch("g", 1) });
    const out = await callAppend(raw, [good, Buffer.from([0xff, 0xff]), good]);
    expect(out).toMatchObject({ ...invalid, details: expect.stringContaining("AppendRequest") });
    expect(out.responses).toHaveLength(1);
    expect(messageType("AppendResponse").decode(out.responses[0]!)).toMatchObject({ batchSeq: 1 });
  });
});
