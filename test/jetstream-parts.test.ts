// The JetStream driver's pure parts (URL, options, mapping, error mapping), and the
// connection options passed through to both ends: the driver and the transport thread.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errors as natsErrors } from "@nats-io/transport-node";
import { Driver } from "../dist/src/index.js";
import { checkNatsOptions, parseNatsUrl } from "../dist/src/drivers/jetstream/options.js";
import { checkTopicName, cursorKey, messageId, producerTag, streamName, subjectOf, topicToken } from "../dist/src/drivers/jetstream/mapping.js";
import { natsError, PubAckError } from "../dist/src/drivers/jetstream/errors.js";
import { startNatsServer, type NatsCluster } from "./helpers/nats.js";

describe("JetStream driver parts", () => {
  it("parses nats:// URLs with one or more servers, naming what is wrong", () => {
    expect(parseNatsUrl("nats://127.0.0.1:4222")).toEqual(["127.0.0.1:4222"]);
    expect(parseNatsUrl("nats://a:1,b,[::1]:3/")).toEqual(["a:1", "b:4222", "[::1]:3"]);
    expect(() => parseNatsUrl("nats://user:pw@a:1")).toThrow(/credentials go in the nats connection options/);
    expect(() => parseNatsUrl("nats://a:99999")).toThrow(/not host:port/);
    expect(() => parseNatsUrl("tributary://a:1")).toThrow(/nats:\/\/host:port/);
  });

  it("checks the connection options it passes through", () => {
    expect(checkNatsOptions({ token: "t", tls: { caFile: "/ca.pem" } })).toEqual({ token: "t", tls: { caFile: "/ca.pem" } });
    expect(() => checkNatsOptions({ password: "x" })).toThrow(/unknown nats connection option 'password'/);
    expect(() => checkNatsOptions({ user: 1 })).toThrow(/'user' must be a string/);
    expect(() => checkNatsOptions({ tls: { ca: Buffer.from("x") } })).toThrow(/tls.ca/);
  });

  it("maps topics to stream names, subjects and keys one to one", () => {
    expect(streamName("orders.eu", 3)).toBe("TRIB_orders=eu_3");
    expect(subjectOf("orders.eu", 3)).toBe("tributary.orders=eu.3");
    // A dot and an underscore stay apart: no two topics share a stream.
    expect(topicToken("a.b")).not.toBe(topicToken("a_b"));
    expect(cursorKey("t.x", "c 1/ü", 0)).toBe(`t=x.${Buffer.from("c 1/ü").toString("base64url")}.0`);
    expect(() => checkTopicName("a b")).toThrow(expect.objectContaining({ code: "INVALID_TOPIC_NAME" }));
    expect(() => checkTopicName("x".repeat(201))).toThrow(/at most 200/);
    const tag = producerTag("app-4f8e");
    expect(tag).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(producerTag("app-4f8e")).toBe(tag);
    expect(messageId(tag, 2, 17, 5)).toBe(`${tag}:2:17:5`);
  });

  it("turns NATS failures into BrokerErrors whose retriable says whether to try again", () => {
    const timeout = natsError(new natsErrors.TimeoutError(), "appending");
    expect(timeout).toMatchObject({ code: "UNAVAILABLE", retriable: true });
    const noResponders = natsError(new natsErrors.RequestError("503", { cause: new natsErrors.NoRespondersError("s") }), "appending");
    expect(noResponders).toMatchObject({ code: "UNAVAILABLE", retriable: true });
    expect(noResponders.message).toMatch(/no stream leader yet/);
    expect(natsError(new PubAckError(10008, 503, "JetStream system temporarily unavailable"), "x")).toMatchObject({ code: "UNAVAILABLE", retriable: true });
    expect(natsError(new PubAckError(10059, 404, "stream not found"), "x")).toMatchObject({ code: "UNKNOWN_TOPIC", retriable: false });
    expect(natsError(new PubAckError(10054, 400, "message size exceeds maximum allowed"), "x")).toMatchObject({ code: "EVENT_TOO_LARGE", retriable: false });
    expect(natsError(new PubAckError(10005, 500, "no suitable peers for placement"), "x")).toMatchObject({ code: "INVALID_ARGUMENT", retriable: false });
    const cause = new natsErrors.PermissionViolationError("denied", "publish", "tributary.t.0");
    expect(natsError(cause, "x")).toMatchObject({ code: "PERMISSION_DENIED", retriable: false, cause });
  });
});

describe("JetStream connection options", () => {
  let server: NatsCluster;
  beforeAll(async () => {
    server = await startNatsServer(["--auth", "s3cret-token"]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("passes a token to the driver's connection and to the producer's transport thread", async () => {
    await expect(Driver.connect(server.url, { timeoutMs: 2000 })).rejects.toMatchObject({ code: "UNAUTHENTICATED", retriable: false });
    await expect(Driver.connect(server.url, { nats: { token: "wrong" }, timeoutMs: 2000 })).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    const driver = await Driver.connect(server.url, { nats: { token: "s3cret-token" } });
    try {
      await driver.createTopic("auth", { partitions: 1 });
      const producer = (await driver.openTopic("auth")).producer({ name: "auth" });
      const ids = await Promise.all([producer.push({ a: 1 }), producer.push({ a: 2 })]);
      await producer.close();
      expect(ids).toEqual([0, 1]);
    } finally {
      await driver.close();
    }
  });
});
