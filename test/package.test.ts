// What the published package holds: the library and its workers, not the benchmarks;
// public types without internals; examples written against the package name.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import * as api from "../dist/src/index.js";
import { CLI, ROOT } from "./helpers.js";

const run = promisify(execFile);

describe("package", () => {
  it("ships the library, its workers and the protocol, and no benchmark code", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, timeout: 60_000 });
    const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain("dist/src/index.js");
    expect(files).toContain("dist/src/cli.js");
    expect(files).toContain("dist/workers/pipeline-worker.js");
    expect(files).toContain("dist/workers/transport-worker.js");
    expect(files).toContain("proto/tributary.proto");
    expect(files.filter((f) => /^dist\/(bench|test|examples)\//.test(f))).toEqual([]);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(files).toContain(pkg.bin.tributary.replace(/^\.\//, ""));
    // The CLI has no command that needs devDependencies.
    await expect(run(process.execPath, [CLI, "bench"])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("unknown command 'bench'") });
  });

  it("exports what its API returns and throws, and no internals in its types", () => {
    for (const name of ["Driver", "TopicHandle", "ThreadPool", "EventFuture", "Consumer", "Producer", "MetadataDecodeError", "BrokerError", "ValidationError"]) {
      expect(api, name).toHaveProperty(name);
    }
    const index = fs.readFileSync(path.join(ROOT, "dist/src/index.d.ts"), "utf8");
    expect(index).toMatch(/TopicDescription as TopicInfo/);
    expect(index).toMatch(/\bTopicDescription\b/);
    expect(index).toMatch(/\bMetadataDecodeError\b/);
    expect(index).not.toMatch(/from "\.\/(broker|internal|transport)|startBroker/);
    const future = fs.readFileSync(path.join(ROOT, "dist/src/core/future.d.ts"), "utf8");
    expect(future).not.toMatch(/resolveFuture|rejectFuture|epoch|settle\(|resolve\(id/);
    const producer = fs.readFileSync(path.join(ROOT, "dist/src/producer/producer.d.ts"), "utf8");
    expect(producer).not.toMatch(/onClosed|constructor\(target/);
    const consumer = fs.readFileSync(path.join(ROOT, "dist/src/consumer/consumer.d.ts"), "utf8");
    expect(consumer).not.toMatch(/onClosed|constructor\(driver/);
  });

  it("examples import the package by name, as a user's code would", () => {
    const sources = fs.readdirSync(path.join(ROOT, "examples"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    expect(sources.length).toBeGreaterThan(2);
    for (const file of sources) {
      const text = fs.readFileSync(path.join(ROOT, "examples", file), "utf8");
      expect(text, file).not.toMatch(/from ["'](\.\.\/)+src\//);
    }
  });
});
