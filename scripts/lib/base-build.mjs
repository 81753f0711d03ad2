/**
 * A build of another commit beside this checkout: a detached git worktree in a temporary
 * directory, sharing this checkout's node_modules, compiled with tsc. `remove()` deletes
 * it again. Used by the scripts that compare two commits side by side.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

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
