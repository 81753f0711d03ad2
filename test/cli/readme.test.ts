// `--help` works on every command and subcommand (exit 0, its usage on stdout), and
// README's command line reference is exactly that output.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { block, COMMANDS, help, readmeBlock } from "../../scripts/readme-cli.mjs";
import { ROOT } from "../helpers.js";

describe("help and README", () => {
  it("prints every command's usage with --help (exit 0), and README's reference is that output", async () => {
    const outputs: { code: number; stdout: string; stderr: string }[] = await Promise.all(COMMANDS.map(help));
    outputs.forEach((o, i) => {
      const name = ["tributary", ...(COMMANDS[i] as string[])].join(" ");
      expect({ name, code: o.code, stderr: o.stderr }).toEqual({ name, code: 0, stderr: "" });
      expect(o.stdout.startsWith(`Usage: ${name} `)).toBe(true);
    });
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    // On a mismatch: npm run build && node scripts/readme-cli.mjs --write
    expect(readmeBlock(readme)).toBe(block(outputs.map((o) => o.stdout)));
  });
});
