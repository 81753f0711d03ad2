/**
 * What the scripts that compare two commits side by side share: their command line, a
 * build of the other commit (a detached git worktree in a temporary directory, sharing
 * this checkout's node_modules, compiled with tsc), and the median.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

export const root = path.resolve(import.meta.dirname, "../..");

const git = (...args) => execFileSync("git", ["-C", root, ...args], { stdio: ["ignore", "pipe", "inherit"] }).toString().trim();

/** Checks out and builds `rev`; returns its short hash, its directory and a remover. */
export function buildBase(rev) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tributary-base-"));
  const dir = path.join(tmp, "base");
  const remove = () => {
    try {
      git("worktree", "remove", "--force", dir);
    } catch {
      // never added, or already gone
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const short = git("rev-parse", "--short", rev);
    git("worktree", "add", "--detach", dir, short);
    fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
    execFileSync(path.join(root, "node_modules/.bin/tsc"), ["-p", path.join(dir, "tsconfig.json")], { stdio: "inherit" });
    return { rev: short, dir, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

/** Median of a list of numbers (NaN when empty). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * The command line: `options` plus `--base` (required), `--rounds` (default 5) and
 * `--help`. Prints `usage` and exits 0 on --help, 2 on a bad or missing flag.
 */
export function parseCommandLine(usage, options) {
  let values;
  try {
    ({ values } = parseArgs({
      options: { ...Object.fromEntries(Object.entries(options).map(([name, { required, ...o }]) => [name, o])), base: { type: "string" }, rounds: { type: "string", default: "5" }, help: { type: "boolean", short: "h", default: false } },
    }));
  } catch (err) {
    console.error(`${err.message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const missing = Object.entries(options).some(([name, o]) => o.required && values[name] === undefined);
  if (!values.base || missing || !(Number(values.rounds) >= 1)) {
    console.error(usage);
    process.exit(2);
  }
  return { ...values, rounds: Number(values.rounds) };
}

/** The sides in the order of round `round` (1-based): base first in odd rounds. */
export function sidesOf(round, baseDir) {
  const sides = [
    ["base", baseDir],
    ["new", root],
  ];
  return round % 2 ? sides : sides.reverse();
}
