// The pipeline plugin layer, tested through the compiled modules (run `npx tsc` first):
// spec normalization, built-ins, the loader, processChunk and the Piscina worker.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Piscina } from "piscina";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../dist/src/core/errors.js";
import { iterateRecords } from "../dist/src/core/records.js";
import type { PipelineSpecs, PluginSpec } from "../dist/src/pipeline/contracts.js";
import { normalizeSpec } from "../dist/src/pipeline/spec.js";
import { loadPipeline, loadPlugin, loadSerializer } from "../dist/src/pipeline/loader.js";
import { processChunk, transferList, type ChunkInput, type ChunkOutput } from "../dist/src/pipeline/chunk.js";
import { fnv1a32 } from "../dist/src/pipeline/builtins/key-hash-selector.js";
import { PIPELINE_WORKER_URL } from "../dist/src/pipeline/index.js";

const ENERGY = fileURLToPath(new URL("../dist/examples/energy/energy.js", import.meta.url));
const WORKER = fileURLToPath(new URL("../dist/workers/pipeline-worker.js", import.meta.url));
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface TestEvent {
  md: unknown;
  data?: Uint8Array;
  partition?: number;
  key?: string;
}

/** Builds a ChunkInput the way the producer's chunker does. */
function chunk(specs: PipelineSpecs, numPartitions: number, events: TestEvent[]): ChunkInput {
  const dataOffsets = new Uint32Array(events.length + 1);
  for (let i = 0; i < events.length; i++) dataOffsets[i + 1] = dataOffsets[i]! + (events[i]!.data?.byteLength ?? 0);
  const data = new Uint8Array(dataOffsets[events.length]!);
  events.forEach((e, i) => e.data && data.set(e.data, dataOffsets[i]));
  return {
    specs,
    numPartitions,
    maxEventBytes: 1024 * 1024,
    firstIndex: 0,
    metadata: events.map((e) => e.md),
    partitions: Int32Array.from(events, (e) => e.partition ?? -1),
    keys: events.some((e) => e.key !== undefined) ? events.map((e) => e.key) : undefined,
    data,
    dataOffsets,
  };
}

function specs(input: { validator?: unknown; partitionSelector?: unknown; serializer?: unknown }, baseDir?: string): PipelineSpecs {
  return {
    validator: normalizeSpec("validator", input.validator as PluginSpec, baseDir),
    partitionSelector: normalizeSpec("partitionSelector", input.partitionSelector as PluginSpec, baseDir),
    serializer: normalizeSpec("serializer", input.serializer as PluginSpec, baseDir),
  };
}

/** Decodes every part of an output into { partition, metadata bytes, data bytes } in blob order. */
function decode(output: ChunkOutput) {
  return output.parts.map((part) => ({
    partition: part.partition,
    records: [...iterateRecords(part.records, part.count)].map((r) => ({ metadata: r.metadata, data: r.data })),
  }));
}

function expectThrows(fn: () => unknown, ...fragments: string[]): void {
  let error: unknown;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(InvalidArgumentError);
  for (const f of fragments) expect((error as Error).message).toContain(f);
}

async function expectRejects(promise: Promise<unknown>, ...fragments: string[]): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(InvalidArgumentError);
  for (const f of fragments) expect((error as Error).message).toContain(f);
}

const ENERGY_SCHEMA = {
  type: "object",
  required: ["energy"],
  properties: { energy: { type: "integer", minimum: 0, exclusiveMaximum: 100 } },
};

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "tributary-pipeline-"));
  // A selector that returns whatever its config says, and misbehaving serializers.
  writeFileSync(
    join(tmp, "plugins.mjs"),
    `export class FixedSelector {
       constructor(config) { this.value = config.value; }
       selectPartitionFor() { return this.value; }
     }
     export class ThrowingSelector { selectPartitionFor(md) { if (md?.boom) throw new Error("boom " + md.boom); return 0; } }
     export class ArraySerializer { serialize() { return [1, 2]; } deserialize() { return null; } }
     export function makeValidator(config) {
       return { validate(md) { if (md.tag !== config.tag) throw new Error("tag must be " + config.tag); } };
     }
     export async function makeAsyncSerializer() {
       return { serialize: (md) => new Uint8Array([md.n]), deserialize: (b) => ({ n: b[0] }) };
     }
     export function OldStyleSelector(config) { this.p = config.p; }
     OldStyleSelector.prototype.selectPartitionFor = function () { return this.p; };
     export class Enrich { validate(md) { md.enriched = true; } }
     export const notAFunction = 42;`,
  );
  writeFileSync(join(tmp, "broken.mjs"), "export const = ;");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("normalizeSpec", () => {
  const builtinDir = new URL("../dist/src/pipeline/builtins/", import.meta.url).href;

  it("defaults each kind to its built-in", () => {
    expect(normalizeSpec("validator", undefined)).toEqual({ module: builtinDir + "default-validator.js", export: "default" });
    expect(normalizeSpec("partitionSelector", undefined)).toEqual({ module: builtinDir + "round-robin-selector.js", export: "default" });
    expect(normalizeSpec("serializer", undefined)).toEqual({ module: builtinDir + "json-serializer.js", export: "default" });
  });

  it("maps built-in names and public aliases to the same compiled module", () => {
    const pairs: [Parameters<typeof normalizeSpec>[0], string, string, string][] = [
      ["validator", "default", "tributary/validators/default", "default-validator.js"],
      ["partitionSelector", "round-robin", "tributary/selectors/round-robin", "round-robin-selector.js"],
      ["partitionSelector", "key-hash", "tributary/selectors/key-hash", "key-hash-selector.js"],
      ["serializer", "json", "tributary/serializers/json", "json-serializer.js"],
      ["serializer", "binary", "tributary/serializers/binary", "binary-serializer.js"],
    ];
    for (const [kind, name, alias, file] of pairs) {
      expect(normalizeSpec(kind, name).module).toBe(builtinDir + file);
      expect(normalizeSpec(kind, alias).module).toBe(builtinDir + file);
      expect(normalizeSpec(kind, { module: alias }).module).toBe(builtinDir + file);
    }
    const config = { schema: ENERGY_SCHEMA };
    expect(normalizeSpec("validator", { module: "json-schema", config })).toEqual({
      module: builtinDir + "json-schema-validator.js",
      export: "default",
      config,
    });
    expect(normalizeSpec("validator", { module: "tributary/validators/json-schema", config }).module).toBe(
      builtinDir + "json-schema-validator.js",
    );
  });

  it("splits the short form at the first colon and resolves paths against baseDir", () => {
    const base = join(tmp, "base");
    expect(normalizeSpec("validator", "EnergyValidator:./energy.js", base)).toEqual({
      module: pathToFileURL(join(base, "energy.js")).href,
      export: "EnergyValidator",
    });
    expect(normalizeSpec("validator", "V:../up/v.js", base).module).toBe(pathToFileURL(join(tmp, "up", "v.js")).href);
    expect(normalizeSpec("validator", "./alone.js", base)).toEqual({
      module: pathToFileURL(join(base, "alone.js")).href,
      export: "default",
    });
    expect(normalizeSpec("validator", { module: ENERGY, export: "EnergyValidator" }).module).toBe(pathToFileURL(ENERGY).href);
  });

  it("does not split file: URLs or Windows drive letters", () => {
    expect(normalizeSpec("serializer", "file:///opt/p/ser.js")).toEqual({ module: "file:///opt/p/ser.js", export: "default" });
    expect(normalizeSpec("serializer", "Ser:file:///opt/p/ser.js")).toEqual({ module: "file:///opt/p/ser.js", export: "Ser" });
    const drive = normalizeSpec("serializer", "C:\\plugins\\ser.js");
    expect(drive.export).toBe("default");
    expect(drive.module).toMatch(/^file:.*ser\.js$/);
    expect(normalizeSpec("serializer", "Ser:C:/plugins/ser.js").export).toBe("Ser");
  });

  it("resolves bare package specifiers from baseDir", () => {
    const spec = normalizeSpec("validator", { module: "ajv", export: "Ajv" }, fileURLToPath(new URL("..", import.meta.url)));
    expect(spec.module).toMatch(/^file:.*node_modules\/ajv\//);
    expect(normalizeSpec("validator", { module: "no-such-package-xyz", export: "V" }).module).toBe("no-such-package-xyz");
  });

  it("stores config as its JSON round trip", () => {
    const spec = normalizeSpec("validator", { module: "./v.js", config: { at: new Date(0), skip: undefined } }, tmp);
    expect(spec.config).toEqual({ at: "1970-01-01T00:00:00.000Z" });
  });

  it("rejects unknown names, wrong kinds and malformed specs with InvalidArgumentError", () => {
    expectThrows(() => normalizeSpec("validator", "nope"), "validator", '"nope"', '"default"', '"json-schema"');
    expectThrows(() => normalizeSpec("partitionSelector", "hash"), "partitionSelector", '"hash"', '"round-robin"', '"key-hash"');
    expectThrows(() => normalizeSpec("serializer", "tributary/serializers/xml"), "serializer", "xml", '"json"', '"binary"');
    expectThrows(() => normalizeSpec("validator", "json"), "validator", '"json"');
    expectThrows(() => normalizeSpec("validator", { module: "json" }), "built-in serializer");
    expectThrows(() => normalizeSpec("validator", "tributary/serializers/json"), "built-in serializer");
    expectThrows(() => normalizeSpec("validator", "1bad:./x.js"), "1bad");
    expectThrows(() => normalizeSpec("validator", "V:"), "no module");
    expectThrows(() => normalizeSpec("validator", ""), "empty");
    expectThrows(() => normalizeSpec("validator", { module: "" }), "module");
    expectThrows(() => normalizeSpec("validator", { module: "./x.js", export: "a-b" }), "export", "a-b");
    expectThrows(() => normalizeSpec("validator", { module: "./x.js", exports: "A" } as PluginSpec), "exports");
    expectThrows(() => normalizeSpec("validator", { module: "./x.js", config: { n: 1n } }), "JSON");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectThrows(() => normalizeSpec("validator", { module: "./x.js", config: cyclic }), "JSON");
    expectThrows(() => normalizeSpec("validator", "json-schema"), "schema");
    expectThrows(() => normalizeSpec("validator", { module: "json-schema", config: { schema: 3 } }), "schema");
    expectThrows(() => normalizeSpec("validator", 42 as unknown as string), "42");
  });
});

describe("built-in plugins", () => {
  it("json-schema validates metadata and reports Ajv's first error", async () => {
    const validator = await loadPlugin("validator", normalizeSpec("validator", { module: "json-schema", config: { schema: ENERGY_SCHEMA } }));
    const none = new Uint8Array(0);
    expect(() => validator.validate({ energy: 42 }, none)).not.toThrow();
    expect(() => validator.validate({ energy: 100 }, none)).toThrow(/^\/energy must be < 100$/);
    expect(() => validator.validate({ energy: 1.5 }, none)).toThrow(/^\/energy must be integer$/);
    expect(() => validator.validate({}, none)).toThrow("must have required property 'energy'");
    expect(() => validator.validate("x", none)).toThrow(/^\(root\) must be object$/);
  });

  it("json-schema without a usable schema fails at construction", async () => {
    const module = normalizeSpec("validator", { module: "json-schema", config: { schema: {} } }).module;
    await expectRejects(loadPlugin("validator", { module, export: "default" }), "validator", "schema");
    await expectRejects(loadPlugin("validator", { module, config: { schema: { type: "no-such-type" } } }), "invalid schema");
  });

  it("key-hash is FNV-1a over UTF-8, stable across instances", async () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    const reference = (s: string) => {
      let h = 0x811c9dc5;
      for (const b of encoder.encode(s)) h = Math.imul(h ^ b, 0x01000193);
      return h >>> 0;
    };
    for (const s of ["é", "日本語", "🎉 party", "lone \ud800 high", "lone \udc00 low", "end \ud83d"]) expect(fnv1a32(s)).toBe(reference(s));

    const spec = normalizeSpec("partitionSelector", "key-hash");
    const [a, b] = await Promise.all([loadPlugin("partitionSelector", spec), loadPlugin("partitionSelector", spec)]);
    expect(a).not.toBe(b);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const p = a.selectPartitionFor({}, 7, `user-${i}`);
      expect(b.selectPartitionFor({ other: true }, 7, `user-${i}`)).toBe(p);
      expect(p).toBe(fnv1a32(`user-${i}`) % 7);
      seen.add(p);
    }
    expect(seen.size).toBe(7);
    // Without a key the metadata's JSON is hashed.
    expect(a.selectPartitionFor({ id: 3 }, 5)).toBe(fnv1a32('{"id":3}') % 5);
  });

  it("round-robin cycles per instance", async () => {
    const rr = await loadPlugin("partitionSelector", normalizeSpec("partitionSelector", "round-robin"));
    expect(Array.from({ length: 7 }, () => rr.selectPartitionFor({}, 3))).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(rr.selectPartitionFor({}, 1)).toBe(0);
  });

  it("json serializer round-trips and rejects values without JSON text", async () => {
    const json = await loadSerializer(normalizeSpec("serializer", "json"));
    const value = { a: [1, "é", null, { b: true }] };
    const bytes = json.serialize(value);
    expect(decoder.decode(bytes)).toBe(JSON.stringify(value));
    expect(json.deserialize(bytes)).toEqual(value);
    expect(() => json.serialize(undefined)).toThrow("no JSON representation");
    // Results are views into a slab: earlier ones must survive later calls and slab turnover.
    const many = Array.from({ length: 3000 }, (_, i) => ({ i, text: `événement ${i}`.repeat(1 + (i % 5)) }));
    const big = { text: "x".repeat(10_000) };
    const encoded = [...many, big].map((v) => json.serialize(v));
    expect(encoded.reduce((n, b) => n + b.byteLength, 0)).toBeGreaterThan(128 * 1024);
    [...many, big].forEach((v, i) => expect(decoder.decode(encoded[i])).toBe(JSON.stringify(v)));
  });

  it("binary serializer round-trips nested JSON compactly", async () => {
    const binary = await loadSerializer(normalizeSpec("serializer", "binary"));
    const values: unknown[] = [
      { run: 7, hits: [{ x: 1.25, y: -3, tags: ["a", "é", "🎉"] }, { x: 2 ** 40, y: -(2 ** 53 - 1), tags: [] }], ok: true, none: null },
      [[[[]]], {}, "", 0, -0.5, 1e300],
      "plain",
      42,
      null,
      false,
    ];
    const encoded = values.map((v) => binary.serialize(v));
    for (let i = 0; i < values.length; i++) {
      expect(encoded[i]).toBeInstanceOf(Uint8Array);
      // Earlier results must survive later calls (they are views into msgpackr's buffer).
      expect(binary.deserialize(encoded[i]!)).toEqual(values[i]);
    }
    expect(encoded[0]![0]! & 0xf0).toBe(0x80); // a MessagePack fixmap, not JSON text
    expect(encoded[0]!.byteLength).toBeLessThan(JSON.stringify(values[0]).length);
    // Decoding does not depend on the instance that encoded (no shared structures).
    const other = await loadPlugin("serializer", normalizeSpec("serializer", "tributary/serializers/binary"));
    expect(other.deserialize(encoded[0]!)).toEqual(values[0]);
  });
});

describe("loader", () => {
  it("instantiates classes, factories, async factories and ES5 constructors", async () => {
    const module = join(tmp, "plugins.mjs");
    const v = await loadPlugin("validator", normalizeSpec("validator", { module, export: "makeValidator", config: { tag: "t" } }));
    expect(() => v.validate({ tag: "t" }, new Uint8Array())).not.toThrow();
    expect(() => v.validate({ tag: "u" }, new Uint8Array())).toThrow("tag must be t");
    const s = await loadPlugin("serializer", normalizeSpec("serializer", `makeAsyncSerializer:${module}`));
    expect(s.serialize({ n: 9 })).toEqual(new Uint8Array([9]));
    const old = await loadPlugin("partitionSelector", normalizeSpec("partitionSelector", { module, export: "OldStyleSelector", config: { p: 2 } }));
    expect(old.selectPartitionFor({}, 4)).toBe(2);
  });

  it("caches a pipeline per specs, so each thread builds its plugins once", async () => {
    const s = specs({ validator: { module: "json-schema", config: { schema: ENERGY_SCHEMA } } });
    const first = await loadPipeline(s);
    expect(await loadPipeline(JSON.parse(JSON.stringify(s)))).toBe(first);
    expect(await loadPipeline(specs({}))).not.toBe(first);
  });

  it("names the kind, module and export when loading fails", async () => {
    await expectRejects(loadPlugin("validator", normalizeSpec("validator", `Nope:${ENERGY}`)), "validator", "Nope", ENERGY, "EnergyValidator");
    await expectRejects(
      loadPipeline(specs({ serializer: { module: ENERGY, export: "Missing" } })),
      "serializer",
      "Missing",
      "no export",
    );
    await expectRejects(loadPlugin("validator", normalizeSpec("validator", `EnergySerializer:${ENERGY}`)), "validate()", "EnergySerializer");
    await expectRejects(loadPlugin("validator", normalizeSpec("validator", `V:${join(tmp, "missing.mjs")}`)), "cannot import", "missing.mjs");
    await expectRejects(loadPlugin("validator", normalizeSpec("validator", `V:${join(tmp, "broken.mjs")}`)), "cannot import", "broken.mjs");
    await expectRejects(loadPlugin("validator", normalizeSpec("validator", `notAFunction:${join(tmp, "plugins.mjs")}`)), "number");
    await expectRejects(
      loadPlugin("validator", { module: ENERGY, export: "EnergyValidator", config: { maxEnergy: 1000 } }),
      "creating the instance failed",
      "maxEnergy",
    );
  });
});

describe("processChunk", () => {
  const jsonSchema = () => specs({ validator: { module: "json-schema", config: { schema: ENERGY_SCHEMA } } });

  it("fails only the bad event and keeps its neighbours byte-exact, in order", async () => {
    const events: TestEvent[] = [
      { md: { energy: 1 }, data: encoder.encode("zero") },
      { md: { energy: 2 }, data: new Uint8Array([0, 255, 7]) },
      { md: { energy: 500 }, data: encoder.encode("bad") },
      { md: '{"energy":4}' }, // JSON text is parsed first
      { md: { energy: 5 }, data: encoder.encode("last") },
    ];
    const input = chunk(jsonSchema(), 2, events);
    input.firstIndex = 1000;
    const out = await processChunk(input);
    expect(out.failures).toEqual([{ index: 2, stage: "validator", reason: "/energy must be < 100" }]);
    // Round-robin: the rejected event does not consume a turn.
    expect(Array.from(out.eventPartition)).toEqual([0, 1, -1, 0, 1]);
    const parts = decode(out);
    expect(parts.map((p) => p.partition)).toEqual([0, 1]);
    expect(out.parts.map((p) => p.count)).toEqual([2, 2]);
    const expected = (i: number) => ({
      metadata: encoder.encode(JSON.stringify(typeof events[i]!.md === "string" ? JSON.parse(events[i]!.md as string) : events[i]!.md)),
      data: events[i]!.data ?? new Uint8Array(0),
    });
    expect(parts[0]!.records).toEqual([expected(0), expected(3)]);
    expect(parts[1]!.records).toEqual([expected(1), expected(4)]);
  });

  it("stores metadata pushed as JSON text as given when built-in plugins cannot have changed it, and serializes it again after a user's validator", async () => {
    const text = '{ "energy" : 4,\n  "note": "as typed" }';
    // Explicit partitions: the round-robin selector's turn, shared by this thread, stays where the other tests expect it.
    const stored = async (s: PipelineSpecs) => decoder.decode(decode(await processChunk(chunk(s, 1, [{ md: text, partition: 0 }, { md: { energy: 5 }, partition: 0 }])))[0]!.records[0]!.metadata);
    expect(await stored(specs({}))).toBe(text);
    expect(await stored(jsonSchema())).toBe(text);
    const enrich = specs({ validator: { module: join(tmp, "plugins.mjs"), export: "Enrich" } });
    expect(JSON.parse(await stored(enrich))).toEqual({ energy: 4, note: "as typed", enriched: true });
    // Text that is not JSON still fails alone, at stage input.
    const out = await processChunk(chunk(specs({}), 1, [{ md: "{nope", partition: 0 }, { md: "[1]", partition: 0 }]));
    expect(out.failures).toMatchObject([{ index: 0, stage: "input" }]);
    expect(decoder.decode(decode(out)[0]!.records[0]!.metadata)).toBe("[1]");
  });

  it("reports each failing stage with its reason", async () => {
    const plugins = join(tmp, "plugins.mjs");
    const out = await processChunk(
      chunk(specs({ partitionSelector: `ThrowingSelector:${plugins}` }), 1, [
        { md: "{not json" },
        { md: { ok: 1 } },
        { md: { boom: "x" } },
        { md: undefined },
      ]),
    );
    expect(out.failures.map((f) => [f.index, f.stage])).toEqual([
      [0, "input"],
      [2, "partitionSelector"],
      [3, "serializer"],
    ]);
    expect(out.failures[0]!.reason).toContain("not valid JSON");
    expect(out.failures[1]!.reason).toBe("boom x");
    expect(out.failures[2]!.reason).toContain("no JSON representation");
    expect(Array.from(out.eventPartition)).toEqual([-1, 0, -1, -1]);

    const arrays = await processChunk(chunk(specs({ serializer: `ArraySerializer:${plugins}` }), 1, [{ md: {} }]));
    expect(arrays.failures).toEqual([{ index: 0, stage: "serializer", reason: "serialize() returned [1,2], not a Uint8Array" }]);
    expect(arrays.parts).toEqual([]);
  });

  it("fails only the event whose explicit partition is out of range", async () => {
    const out = await processChunk(
      chunk(specs({}), 4, [
        { md: { n: 0 }, partition: 3 },
        { md: { n: 1 }, partition: 7 },
        { md: { n: 2 }, partition: 0 },
        { md: { n: 3 }, partition: -2 },
        { md: { n: 4 } },
      ]),
    );
    expect(out.failures.map((f) => [f.index, f.stage])).toEqual([
      [1, "partitionSelector"],
      [3, "partitionSelector"],
    ]);
    expect(out.failures[0]!.reason).toContain("explicit partition 7");
    expect(out.failures[1]!.reason).toContain("explicit partition -2");
    expect(Array.from(out.eventPartition)).toEqual([3, -1, 0, -1, 0]);
    expect(decode(out).map((p) => [p.partition, p.records.map((r) => decoder.decode(r.metadata))])).toEqual([
      [0, ['{"n":2}', '{"n":4}']],
      [3, ['{"n":0}']],
    ]);
  });

  it("fails the event when the selector returns a partition out of range", async () => {
    const module = join(tmp, "plugins.mjs");
    for (const [value, shown] of [
      [4, "returned 4,"],
      [-1, "returned -1,"],
      [1.5, "returned 1.5,"],
      ["1", 'returned "1",'],
      [null, "returned null,"],
    ] as const) {
      const s = specs({ partitionSelector: { module, export: "FixedSelector", config: { value } } });
      const out = await processChunk(chunk(s, 4, [{ md: {}, partition: 2 }, { md: {} }, { md: {}, partition: 1 }]));
      expect(out.failures).toHaveLength(1);
      expect(out.failures[0]).toMatchObject({ index: 1, stage: "partitionSelector" });
      expect(out.failures[0]!.reason).toContain(shown);
      expect(out.failures[0]!.reason).toContain("[0, 4)");
      expect(Array.from(out.eventPartition)).toEqual([2, -1, 1]);
    }
  });

  it("gives every part its own transferable buffer", async () => {
    const out = await processChunk(chunk(specs({ partitionSelector: "key-hash" }), 8, Array.from({ length: 50 }, (_, i) => ({ md: { i }, key: `k${i}` }))));
    expect(out.parts.length).toBeGreaterThan(1);
    for (const part of out.parts) {
      expect(part.records.byteOffset).toBe(0);
      expect(part.records.byteLength).toBe(part.records.buffer.byteLength);
    }
    const list = transferList(out);
    expect(new Set(list).size).toBe(out.parts.length + 1);
    expect(list).toContain(out.eventPartition.buffer);
    const moved = structuredClone(out, { transfer: list });
    expect(out.parts[0]!.records.byteLength).toBe(0); // detached: moved, not copied
    expect(decode(moved).flatMap((p) => p.records).length).toBe(50);
  });

  it("rejects an inconsistent chunk as a whole", async () => {
    const input = chunk(specs({}), 2, [{ md: {} }, { md: {} }]);
    input.firstIndex = 40;
    await expectRejects(processChunk({ ...input, partitions: new Int32Array(1) }), "#40", "partitions");
    await expectRejects(processChunk({ ...input, dataOffsets: new Uint32Array([0, 0, 9]) }), "dataOffsets");
    await expectRejects(processChunk({ ...input, numPartitions: 0 }), "numPartitions");
  });

  it("runs the energy example: validation, energy bins and one-byte records", async () => {
    const s = specs({
      validator: `EnergyValidator:${ENERGY}`,
      partitionSelector: `EnergyPartitionSelector:${ENERGY}`,
      serializer: { module: ENERGY, export: "EnergySerializer" },
    });
    const energies = [5, 42, 99, 100, 77, -1, 3.5, 25];
    const out = await processChunk(chunk(s, 4, energies.map((energy, i) => ({ md: { energy }, data: new Uint8Array([i]) }))));
    expect(Array.from(out.eventPartition)).toEqual([0, 1, 3, -1, 3, -1, -1, 1]);
    expect(out.failures.map((f) => [f.index, f.stage, f.reason])).toEqual([
      [3, "validator", "energy must be an integer in [0, 100), got 100"],
      [5, "validator", "energy must be an integer in [0, 100), got -1"],
      [6, "validator", "energy must be an integer in [0, 100), got 3.5"],
    ]);
    const serializer = await loadSerializer(s.serializer);
    const byPartition = decode(out).map((p) => [p.partition, p.records.map((r) => [serializer.deserialize(r.metadata), r.data[0]])]);
    expect(byPartition).toEqual([
      [0, [[{ energy: 5 }, 0]]],
      [1, [[{ energy: 42 }, 1], [{ energy: 25 }, 7]]],
      [3, [[{ energy: 99 }, 2], [{ energy: 77 }, 4]]],
    ]);
    for (const p of out.parts) expect(p.records.byteLength).toBe(p.count * (8 + 1 + 1));
  });
});

describe("pipeline worker (Piscina)", () => {
  it("computes the same key-hash partitions and records as the main thread", async () => {
    expect(fileURLToPath(PIPELINE_WORKER_URL)).toBe(WORKER);
    const pool = new Piscina({ filename: WORKER, minThreads: 2, maxThreads: 2 });
    try {
      const s = specs({ partitionSelector: "key-hash", serializer: "binary" });
      const make = (c: number) =>
        chunk(
          s,
          5,
          Array.from({ length: 300 }, (_, i) => ({
            md: i === 150 ? "{bad" : { c, i, user: `u${i % 37}` },
            key: i % 3 === 0 ? undefined : `user-${i % 37}`,
            data: encoder.encode(`payload ${c}/${i}`),
          })),
        );
      const inline = await Promise.all([0, 1, 2, 3, 4, 5].map((c) => processChunk(make(c))));
      const remote: ChunkOutput[] = await Promise.all(
        [0, 1, 2, 3, 4, 5].map((c) => {
          const input = make(c);
          // Move the input buffers too, as the producer does.
          return pool.run(input, { transferList: [input.partitions.buffer, input.data.buffer, input.dataOffsets.buffer] as ArrayBuffer[] });
        }),
      );
      expect(pool.threads.length).toBe(2);
      for (let c = 0; c < inline.length; c++) {
        expect(remote[c]!.eventPartition).toBeInstanceOf(Int32Array);
        expect(Array.from(remote[c]!.eventPartition)).toEqual(Array.from(inline[c]!.eventPartition));
        expect(remote[c]!.failures).toEqual([{ index: 150, stage: "input", reason: expect.stringContaining("not valid JSON") }]);
        expect(decode(remote[c]!)).toEqual(decode(inline[c]!));
      }
      // Same key, same partition, whichever thread ran it.
      const byKey = new Map<string, number>();
      for (const [c, out] of remote.entries()) {
        const input = make(c);
        input.keys!.forEach((key, i) => {
          if (key === undefined || out.eventPartition[i] === -1) return;
          expect(byKey.get(key) ?? out.eventPartition[i]).toBe(out.eventPartition[i]);
          byKey.set(key, out.eventPartition[i]!);
          expect(out.eventPartition[i]).toBe(fnv1a32(key) % 5);
        });
      }
      expect(new Set(byKey.values()).size).toBe(5);
      // A pipeline that cannot load rejects the task with the loader's message.
      await expect(pool.run(chunk(specs({ validator: `Nope:${ENERGY}` }), 1, [{ md: {} }]))).rejects.toThrow(/no export "Nope"/);
    } finally {
      await pool.destroy();
    }
  });
});
