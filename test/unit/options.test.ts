import { describe, expect, it } from "vitest";
import { PRODUCER_DEFAULTS, resolveProducerOptions } from "../../dist/src/producer/options.js";
import { InvalidArgumentError } from "../../dist/src/core/errors.js";
import { BatchSize, Ordering } from "../../dist/src/core/types.js";
import type { DriverCapabilities } from "../../dist/src/drivers/contract.js";

const roomy: DriverCapabilities = {
  maxEventBytes: 1 << 30,
  maxBatchBytes: 1 << 30,
  maxBatchEvents: 1 << 24,
  contiguousIds: true,
  dedupe: { kind: "batch" },
};

describe("PRODUCER_DEFAULTS", () => {
  it("is one frozen table", () => {
    expect(Object.isFrozen(PRODUCER_DEFAULTS)).toBe(true);
    expect(() => {
      (PRODUCER_DEFAULTS as { chunkSize: number }).chunkSize = 1;
    }).toThrow(TypeError);
    expect(PRODUCER_DEFAULTS.chunkSize).toBe(1024);
  });
});

describe("resolveProducerOptions", () => {
  it("fills every default from the table", () => {
    expect(resolveProducerOptions({}, 3, roomy)).toEqual({
      name: "producer",
      batchSize: "adaptive",
      maxNumBatches: 2,
      strict: true,
      chunkSize: 1024,
      deliveryTimeoutMs: 30_000,
      maxPendingEvents: 65_536,
      retryBackoffMs: 50,
      maxChunkDataBytes: 4 * 1024 * 1024,
      maxBatchEvents: 65_536,
      maxBatchBytes: 8 * 1024 * 1024,
      lingerMs: 0,
      wal: undefined,
    });
  });

  it("keeps given options and maps the ordering", () => {
    const r = resolveProducerOptions(
      { name: "p1", batchSize: 500, maxNumBatches: 4, ordering: Ordering.Loose, chunkSize: 64, deliveryTimeoutMs: 5, maxPendingEvents: 10 },
      2,
      roomy,
    );
    expect(r).toMatchObject({ name: "p1", batchSize: 500, maxNumBatches: 4, strict: false, chunkSize: 64, deliveryTimeoutMs: 5, maxPendingEvents: 10 });
    expect(resolveProducerOptions({ ordering: Ordering.Strict }, 1, roomy).strict).toBe(true);
    expect(resolveProducerOptions({ batchSize: BatchSize.Adaptive }, 1, roomy).batchSize).toBe("adaptive");
  });

  it("sizes the default maxPendingEvents to hold two full rounds of batches", () => {
    // 2 × partitions × maxNumBatches × batch size, at least 65,536.
    expect(resolveProducerOptions({ batchSize: 1000, maxNumBatches: 4 }, 64, roomy).maxPendingEvents).toBe(512_000);
    expect(resolveProducerOptions({ maxNumBatches: 3 }, 20, roomy).maxPendingEvents).toBe(2 * 20 * 3 * 1024);
    expect(resolveProducerOptions({ batchSize: 10 }, 2, roomy).maxPendingEvents).toBe(65_536);
  });

  it("lowers the batch caps to the driver's capabilities", () => {
    const small: DriverCapabilities = { ...roomy, maxBatchEvents: 1000, maxBatchBytes: 256 * 1024 };
    const r = resolveProducerOptions({}, 1, small);
    expect(r.maxBatchEvents).toBe(1000);
    expect(r.maxBatchBytes).toBe(256 * 1024);
    const half = resolveProducerOptions({}, 1, { ...roomy, maxBatchBytes: 1 << 20 });
    expect(half.maxBatchEvents).toBe(65_536);
    expect(half.maxBatchBytes).toBe(1 << 20);
  });

  it("refuses a batch size above the log's events per batch", () => {
    const small: DriverCapabilities = { ...roomy, maxBatchEvents: 1000 };
    expect(resolveProducerOptions({ batchSize: 1000 }, 1, small).batchSize).toBe(1000);
    expect(() => resolveProducerOptions({ batchSize: 1001 }, 1, small)).toThrow(InvalidArgumentError);
    expect(() => resolveProducerOptions({ batchSize: 1001 }, 1, small)).toThrow(/batchSize 1001 .*1000/);
  });

  it.each([
    ["name", "empty", { name: "" }],
    ["name", "201 characters", { name: "x".repeat(201) }],
    ["name", "a number", { name: 42 }],
    ["batchSize", "0", { batchSize: 0 }],
    ["batchSize", "-3", { batchSize: -3 }],
    ["batchSize", "1.5", { batchSize: 1.5 }],
    ["batchSize", "'big'", { batchSize: "big" }],
    ["batchSize", "NaN", { batchSize: Number.NaN }],
    ["maxNumBatches", "0", { maxNumBatches: 0 }],
    ["maxNumBatches", "2.5", { maxNumBatches: 2.5 }],
    ["maxNumBatches", "'2'", { maxNumBatches: "2" }],
    ["ordering", "'random'", { ordering: "random" }],
    ["chunkSize", "0", { chunkSize: 0 }],
    ["chunkSize", "Infinity", { chunkSize: Infinity }],
    ["deliveryTimeoutMs", "-1", { deliveryTimeoutMs: -1 }],
    ["deliveryTimeoutMs", "0.5", { deliveryTimeoutMs: 0.5 }],
    ["maxPendingEvents", "0", { maxPendingEvents: 0 }],
    ["maxPendingEvents", "-10", { maxPendingEvents: -10 }],
  ])("refuses %s = %s with an InvalidArgumentError naming it", (option, _label, bad) => {
    let caught: unknown;
    try {
      resolveProducerOptions(bad as never, 1, roomy);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect((caught as InvalidArgumentError).code).toBe("INVALID_ARGUMENT");
    expect((caught as Error).message).toContain(option);
  });

  it("accepts the edge values", () => {
    expect(resolveProducerOptions({ name: "x".repeat(200), batchSize: 1, maxNumBatches: 1, chunkSize: 1, deliveryTimeoutMs: 1, maxPendingEvents: 1 }, 1, roomy)).toMatchObject({
      batchSize: 1,
      maxPendingEvents: 1,
    });
  });
});
