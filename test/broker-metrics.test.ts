// The broker's own metrics endpoint: appends, bytes, offsets, consumer lag, fsync latency.
import { afterEach, describe, expect, it } from "vitest";
import { Driver } from "../dist/src/index.js";
import { removeDir, tempDir, testBroker } from "./helpers.js";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("broker metrics", () => {
  it("serves Prometheus text on /metrics that matches what was appended and consumed", async () => {
    const dir = tempDir();
    const broker = await testBroker(dir, { metricsPort: 0, fsync: "always" });
    cleanups.push(() => removeDir(dir), () => broker.close());
    expect(broker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const driver = await Driver.connect(broker.url);
    cleanups.push(() => driver.close());
    await driver.createTopic("m", { partitions: 2 });
    const topic = await driver.openTopic("m");
    const producer = topic.producer();
    for (let i = 0; i < 300; i++) producer.push({ i }, undefined, { partition: i % 2 });
    await producer.close();
    const consumer = topic.consumer({ name: "reader", partitions: [0], follow: false });
    let last;
    for await (const e of consumer) if (e.id === 99) last = e;
    await last!.acknowledge();

    const res = await fetch(broker.metricsUrl!);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    const value = (name: string, labels = "") => Number(new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ""} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value("tributary_broker_append_events_total", 'topic="m",partition="0"')).toBe(150);
    expect(value("tributary_broker_append_events_total", 'topic="m",partition="1"')).toBe(150);
    expect(value("tributary_broker_append_batches_total", 'topic="m",partition="0"')).toBeGreaterThan(0);
    expect(value("tributary_broker_append_bytes_total", 'topic="m",partition="0"')).toBeGreaterThan(150 * 8);
    expect(value("tributary_broker_partition_next_offset", 'topic="m",partition="1"')).toBe(150);
    expect(value("tributary_broker_consumer_lag_events", 'topic="m",partition="0",consumer="reader"')).toBe(50);
    expect(value("tributary_broker_topics", 'state="serving"')).toBe(1);
    expect(value("tributary_broker_partitions")).toBe(2);
    expect(value("tributary_broker_fsync_seconds_count")).toBeGreaterThan(0);
    expect((await fetch(broker.metricsUrl!.replace("/metrics", "/other"))).status).toBe(404);
  });
});
