// Where pipeline plugins come from: topics that work from any install and folder, plugin
// references checked when the topic is created, a pipeline that behaves the same inline
// and on the pool, and topics whose stored plugins point at code nobody may run.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { Driver, InvalidArgumentError, ValidationError } from "../dist/src/index.js";
import { BrokerClient, ThreadPool, loadPipeline, normalizeSpec } from "../dist/src/internal.js";
import { CLI, FIXTURES, ROOT, removeDir, tempDir, testBroker } from "./helpers.js";

const run = promisify(execFile);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function broker() {
  const b = await testBroker();
  cleanups.push(() => removeDir(b.dir), () => b.close());
  return b;
}

function dir(): string {
  const d = tempDir();
  cleanups.push(() => removeDir(d));
  return d;
}

/** Runs an ES module script with `node`, in `cwd` (from a file: worker threads cannot inherit `--input-type`). */
function node(cwd: string, script: string) {
  const file = path.join(cwd, `script-${Math.random().toString(36).slice(2)}.mjs`);
  fs.writeFileSync(file, script);
  return run(process.execPath, [file], { cwd, timeout: 30_000 });
}

const TAG_PLUGIN = `export class Tag { validate(md) { if (!md.tag) throw new Error("no tag"); } }\n`;

describe("plugins", () => {
  it("a topic created from one install and folder is produced and consumed from another", async () => {
    const { url } = await broker();
    // Install A: its own copy of the package, as an application would have in node_modules.
    const a = dir();
    const pkg = path.join(a, "node_modules", "tributary");
    fs.mkdirSync(path.join(pkg, "dist"), { recursive: true });
    for (const sub of ["src", "workers"]) fs.cpSync(path.join(ROOT, "dist", sub), path.join(pkg, "dist", sub), { recursive: true });
    fs.cpSync(path.join(ROOT, "proto"), path.join(pkg, "proto"), { recursive: true });
    fs.copyFileSync(path.join(ROOT, "package.json"), path.join(pkg, "package.json"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(pkg, "node_modules"));
    fs.mkdirSync(path.join(a, "plugins"));
    fs.writeFileSync(path.join(a, "plugins", "tag.mjs"), TAG_PLUGIN);
    await node(
      a,
      `import { Driver } from "tributary";
       const d = await Driver.connect(${JSON.stringify(url)});
       await d.createTopic("portable", { partitions: 2, validator: "Tag:./plugins/tag.mjs", partitionSelector: "key-hash", serializer: "binary" });
       await d.close();`,
    );
    const stored = await new BrokerClient(url).describeTopic("portable");
    expect(stored.validator).toMatchObject({ module: "./plugins/tag.mjs", exportName: "Tag" });
    expect(stored.partitionSelector!.module).toBe("tributary/selectors/key-hash");
    expect(stored.serializer!.module).toBe("tributary/serializers/binary");
    removeDir(a); // the install that created the topic is gone

    // Folder B has its own ./plugins/tag.mjs and uses this checkout's install.
    const b = dir();
    fs.mkdirSync(path.join(b, "plugins"));
    fs.writeFileSync(path.join(b, "plugins", "tag.mjs"), TAG_PLUGIN);
    const { stdout } = await node(
      b,
      `import { Driver } from ${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/src/index.js")).href)};
       const d = await Driver.connect(${JSON.stringify(url)});
       const topic = await d.openTopic("portable");
       const producer = topic.producer({ threadPool: d.makeThreadPool(1) });
       const fs = [...Array(10).keys()].map((i) => producer.push({ tag: "t", i }, undefined, { key: "k" + i }));
       const untagged = producer.push({ i: 99 });
       await producer.close();
       console.log(JSON.stringify({ ok: fs.filter((f) => f.id !== undefined).length, untagged: untagged.error?.message }));
       await d.close();`,
    );
    expect(JSON.parse(stdout)).toEqual({ ok: 10, untagged: "event #10 rejected by the validator: no tag" });
    const consumed = await run(process.execPath, [CLI, "consume", "portable", "--broker", url], { cwd: b, timeout: 30_000 });
    const lines = consumed.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.metadata.i).sort((x: number, y: number) => x - y)).toEqual([...Array(10).keys()]);
  });

  it("createTopic loads each plugin once and refuses the topic when one cannot load", async () => {
    const b = await broker();
    const driver = await Driver.connect(b.url);
    cleanups.push(() => driver.close());
    const work = dir();
    fs.writeFileSync(path.join(work, "v.ts"), "export class V { validate(): void {} }\n");
    const cases: [string, unknown, RegExp][] = [
      ["misspelled", { module: FIXTURES, export: "CostlyValidatr" }, /has no export "CostlyValidatr" \(exports: .*CostlyValidator/],
      ["missing", `V:${path.join(work, "nope.mjs")}`, /cannot import the module/],
      ["typescript", `V:${path.join(work, "v.ts")}`, /cannot import the module.*\.ts/],
      ["not-a-validator", { module: FIXTURES, export: "WildSelector" }, /no validate\(\) method/],
    ];
    for (const [name, validator, reason] of cases) {
      const err = await driver.createTopic(name, { validator: validator as string }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(/cannot create topic/);
      expect((err as Error).message).toMatch(reason);
    }
    expect(await driver.listTopics()).toEqual([]);
  });

  it("gives the same outcome and error class inline and on the pool", async () => {
    const b = await broker();
    const driver = await Driver.connect(b.url);
    cleanups.push(() => driver.close());
    // A topic whose validator cannot load, stored over the raw wire (createTopic refuses it).
    const client = new BrokerClient(b.url);
    cleanups.push(() => client.close());
    await client.createTopic({ name: "broken", partitions: 1, validator: { module: FIXTURES, exportName: "NoSuchExport", configJson: "" } });
    await driver.createTopic("fine", { partitions: 1 });
    const outcomes = [];
    for (const threads of [0, 1]) {
      const pool = driver.makeThreadPool(threads);
      const fine = (await driver.openTopic("fine")).producer({ threadPool: pool });
      const withFunction = fine.push({ a: 1, nested: [{ f: () => 1 }] });
      const good = fine.push({ a: 2 });
      const broken = (await driver.openTopic("broken")).producer({ threadPool: pool });
      const unloadable = broken.push({ a: 3 });
      await Promise.all([fine.close(), broken.close()]);
      expect(good.id).toBe(threads);
      outcomes.push({ withFunction: withFunction.error, unloadable: unloadable.error });
    }
    const [inline, pooled] = outcomes;
    for (const o of outcomes) {
      expect(o!.withFunction).toBeInstanceOf(ValidationError);
      expect(o!.withFunction).toMatchObject({ stage: "input" });
      expect(o!.unloadable).toBeInstanceOf(InvalidArgumentError);
    }
    expect(pooled!.withFunction!.message).toBe(inline!.withFunction!.message);
    expect(inline!.withFunction!.message).toContain("metadata holds a function at .nested[0].f");
    expect(pooled!.unloadable!.message).toBe(inline!.unloadable!.message);
    expect(inline!.unloadable!.message).toContain('no export "NoSuchExport"');
  });

  it("a hostile topic definition runs no code in a producer, a worker or tributary consume", async () => {
    const b = await broker();
    const marker = path.join(dir(), "MARKER");
    const outside = dir(); // not under the working directory: not an allowed plugin directory
    fs.writeFileSync(path.join(outside, "evil.mjs"), `import fs from "node:fs"; fs.writeFileSync(${JSON.stringify(marker)}, "x");\nexport default class { validate() {} serialize() { return new Uint8Array(); } deserialize() { return null; } }\n`);
    const dataUrl = `data:text/javascript,${encodeURIComponent(`import("node:fs").then((f) => f.writeFileSync(${JSON.stringify(marker)}, "x")); export default class { validate() {} serialize() { return new Uint8Array(); } deserialize() { return null; } }`)}`;
    const touch = JSON.stringify(`touch ${marker}`);
    // Each module is stored as both the validator (producers run it) and the serializer (consumers run it).
    const hostile: Record<string, { module: string; exportName?: string; configJson?: string }> = {
      "via-data-url": { module: dataUrl },
      "via-http": { module: "https://example.com/evil.js" },
      "via-outside-file": { module: path.join(outside, "evil.mjs") },
      "via-file-url": { module: pathToFileURL(path.join(outside, "evil.mjs")).href },
      "via-node-builtin": { module: "node:child_process", exportName: "execSync", configJson: touch },
      "via-bare-builtin": { module: "child_process", exportName: "execSync", configJson: touch },
    };
    const client = new BrokerClient(b.url);
    cleanups.push(() => client.close());
    // The broker itself refuses URL schemes other than file: (the first line of defence) …
    for (const name of ["via-data-url", "via-http", "via-node-builtin"]) {
      const spec = hostile[name]!;
      await expect(client.createTopic({ name, partitions: 1, validator: spec, serializer: spec } as never), name).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    // … and what it stores is refused again by every producer and consumer (the second).
    const stored = ["via-outside-file", "via-file-url", "via-bare-builtin"];
    for (const name of stored) await client.createTopic({ name, partitions: 1, validator: hostile[name], serializer: hostile[name] } as never);
    const driver = await Driver.connect(b.url);
    cleanups.push(() => driver.close());
    for (const name of stored) {
      const err = await driver.openTopic(name).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(new RegExp(`topic '${name}'.*(refusing|never loaded|built-in module|not a module specifier)`));
      const consume = await run(process.execPath, [CLI, "consume", name, "--broker", b.url], { cwd: ROOT, timeout: 30_000 }).catch((e: { code: number; stderr: string }) => e);
      expect(consume, name).toMatchObject({ code: 1, stderr: expect.stringMatching(/refusing|never loaded|built-in module/) });
    }
    // Whatever reaches a thread directly is refused there too.
    const direct = { validator: { module: dataUrl }, partitionSelector: normalizeSpec("partitionSelector", undefined), serializer: normalizeSpec("serializer", undefined) };
    await expect(loadPipeline(direct as never)).rejects.toThrow(/never loaded/);
    await expect(loadPipeline({ ...direct, validator: { module: "node:child_process", export: "execSync" } } as never)).rejects.toThrow(/built-in module/);
    const pool = new ThreadPool(1);
    cleanups.push(() => pool.close());
    const chunk = { specs: direct, numPartitions: 1, maxEventBytes: 1 << 20, firstIndex: 0, metadata: [{}], partitions: Int32Array.of(-1), keys: undefined, data: new Uint8Array(0), dataOffsets: new Uint32Array(2) };
    await expect(pool.run(chunk as never, [])).rejects.toThrow(InvalidArgumentError);
    expect(fs.existsSync(marker)).toBe(false);
  });
});
