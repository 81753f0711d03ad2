// The import rules of docs/ARCHITECTURE.md: every folder of src/ (a layer) imports only
// from the layers below it, drivers never import each other, and nothing in src/ imports
// bench/. Read from the TypeScript sources, type-only imports included: a type is a
// dependency too.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

type Layer =
  | "core"
  | "protocol"
  | "pipeline"
  | "drivers"
  | "transport"
  | "producer"
  | "consumer"
  | "client"
  | "broker"
  | "cli"
  | "index"
  | "internal"
  | "worker:pipeline"
  | "worker:transport"
  | "worker:broker";

/** What each layer may import (besides itself). `dynamic`: only through `import()`. */
const RULES: Record<Layer, { static: Layer[]; dynamic?: Layer[]; packages: string[] }> = {
  core: { static: [], packages: [] },
  protocol: { static: ["core"], packages: ["@grpc/grpc-js", "protobufjs"] },
  pipeline: { static: ["core"], packages: ["piscina", "ajv", "msgpackr"] },
  drivers: { static: ["core", "protocol"], packages: ["@grpc/grpc-js", "@nats-io/transport-node", "@nats-io/jetstream", "@nats-io/kv", "@nats-io/nats-core"] },
  transport: { static: ["core", "drivers"], packages: ["comlink"] },
  producer: { static: ["core", "pipeline", "drivers", "transport"], packages: [] },
  consumer: { static: ["core", "pipeline", "drivers"], packages: [] },
  client: { static: ["core", "pipeline", "drivers", "producer", "consumer"], dynamic: ["broker"], packages: ["prom-client"] },
  broker: { static: ["core", "protocol"], packages: ["@grpc/grpc-js", "prom-client"] },
  cli: { static: ["core", "pipeline", "drivers", "client", "broker"], packages: ["commander", "cli-progress"] },
  index: { static: ["core", "pipeline", "drivers", "producer", "consumer", "client"], packages: [] },
  internal: { static: ["index", "core", "protocol", "pipeline", "drivers", "transport", "producer", "consumer", "client"], packages: [] },
  "worker:pipeline": { static: ["core", "pipeline"], packages: ["piscina"] },
  "worker:transport": { static: ["core", "drivers", "transport"], packages: ["comlink"] },
  "worker:broker": { static: ["broker"], packages: [] },
};

/** The layer of a source file (path relative to the repository root), or undefined outside the rules. */
export function layerOf(file: string): Layer | undefined {
  const f = file.split(path.sep).join("/");
  if (f === "src/index.ts") return "index";
  if (f === "src/internal.ts") return "internal";
  if (f === "src/cli.ts") return "cli";
  const m = /^src\/([^/]+)\//.exec(f);
  if (m) return m[1] === "types" ? undefined : (m[1] as Layer);
  const w = /^workers\/(pipeline|transport|broker)-worker\.ts$/.exec(f);
  return w ? (`worker:${w[1]}` as Layer) : undefined;
}

interface Import {
  specifier: string;
  dynamic: boolean;
  line: number;
}

/** Every import, re-export and string-literal `import()` of a TypeScript source. */
export function importsOf(source: string): Import[] {
  const out: Import[] = [];
  const lineAt = (index: number): number => source.slice(0, index).split("\n").length;
  const staticForm = /^\s*(?:import|export)\s[^;]*?\bfrom\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']/gm;
  for (const m of source.matchAll(staticForm)) out.push({ specifier: (m[1] ?? m[2])!, dynamic: false, line: lineAt(m.index!) });
  for (const m of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) out.push({ specifier: m[1]!, dynamic: true, line: lineAt(m.index!) });
  return out;
}

/** The rule an import of `file` breaks, or undefined. */
export function violation(file: string, imp: Import): string | undefined {
  const from = layerOf(file);
  if (from === undefined) return undefined;
  const where = `${file}:${imp.line} imports '${imp.specifier}'`;
  const rule = RULES[from];
  if (!imp.specifier.startsWith(".")) {
    if (imp.specifier.startsWith("node:")) return undefined;
    const pkg = imp.specifier.startsWith("@") ? imp.specifier.split("/").slice(0, 2).join("/") : imp.specifier.split("/")[0]!;
    return rule.packages.includes(pkg) ? undefined : `${where}: layer '${from}' may use the packages [${rule.packages.join(", ")}]`;
  }
  const target = path.join(path.dirname(file), imp.specifier).split(path.sep).join("/");
  if (target.startsWith("bench/") || target.startsWith("test/")) return `${where}: nothing in src/ or workers/ imports ${target.split("/")[0]}/`;
  const to = layerOf(target.replace(/\.js$/, ".ts"));
  if (to === undefined || to === from) {
    // Inside drivers/, one driver never reaches into another: only the contract and registry are shared.
    if (from === "drivers" && to === "drivers") {
      const own = /^src\/drivers\/([^/]+)\//.exec(file.split(path.sep).join("/"))?.[1];
      const other = /^src\/drivers\/([^/]+)\//.exec(target)?.[1];
      if (own && other && own !== other) return `${where}: driver '${own}' imports driver '${other}'`;
    }
    return undefined;
  }
  if (rule.static.includes(to)) return undefined;
  if (imp.dynamic && rule.dynamic?.includes(to)) return undefined;
  const allowed = rule.dynamic?.includes(to) ? ` ('${to}' only through import())` : "";
  return `${where}: layer '${from}' may import [${rule.static.join(", ")}]${allowed}, not '${to}'`;
}

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

describe("architecture", () => {
  it("every import of src/ and workers/ follows the layer rules", () => {
    const files = [...sources("src"), ...sources("workers")];
    expect(files.length).toBeGreaterThan(40);
    const problems: string[] = [];
    for (const file of files) {
      expect(layerOf(file), `${file} belongs to no layer of the rules`).toBeDefined();
      for (const imp of importsOf(fs.readFileSync(path.join(ROOT, file), "utf8"))) {
        const v = violation(file, imp);
        if (v) problems.push(v);
      }
    }
    expect(problems).toEqual([]);
  });

  it("catches imports against the rules (the checker itself)", () => {
    const src = (text: string) => importsOf(text);
    expect(src(`import { x } from "../producer/producer.js";`)).toEqual([{ specifier: "../producer/producer.js", dynamic: false, line: 1 }]);
    expect(src(`import type {\n  A,\n} from "./a.js";\nexport * from "./b.js";\nconst m = await import("../broker/x.js");`).map((i) => [i.specifier, i.dynamic, i.line])).toEqual([
      ["./a.js", false, 1],
      ["./b.js", false, 4],
      ["../broker/x.js", true, 5],
    ]);
    const bad = (file: string, specifier: string, dynamic = false) => violation(file, { specifier, dynamic, line: 1 });
    expect(bad("src/core/errors.ts", "../producer/producer.js")).toMatch(/layer 'core' may import \[\], not 'producer'/);
    expect(bad("src/drivers/tributary/driver.ts", "../../client/driver.js")).toMatch(/not 'client'/);
    expect(bad("src/drivers/tributary/driver.ts", "../jetstream/mapping.js")).toMatch(/driver 'tributary' imports driver 'jetstream'/);
    expect(bad("src/client/driver.ts", "../broker/broker-thread.js")).toMatch(/only through import\(\)/);
    expect(bad("src/client/driver.ts", "../broker/broker-thread.js", true)).toBeUndefined();
    expect(bad("src/broker/broker.ts", "../client/driver.js")).toMatch(/not 'client'/);
    expect(bad("src/cli.ts", "../bench/run.js")).toMatch(/nothing in src\/ or workers\/ imports bench\//);
    expect(bad("src/producer/producer.ts", "@grpc/grpc-js")).toMatch(/may use the packages/);
    expect(bad("src/index.ts", "./broker/server.js")).toMatch(/not 'broker'/);
    expect(bad("src/producer/producer.ts", "../core/future.js")).toBeUndefined();
    expect(bad("src/producer/producer.ts", "node:crypto")).toBeUndefined();
  });
});
