/**
 * An exclusive lock on a data directory: two brokers on one directory would give the
 * same IDs to different events. The lock is a file created with O_EXCL holding the
 * owner's pid and host; a lock whose process is gone (on this host) is stale and taken
 * over, with a log line. node:fs has no flock, and a lock file also tells a person who
 * holds the directory.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BrokerLogger } from "./logger.js";

export const LOCK_FILE = "LOCK";

/** Directories locked by this process: a second broker in the same process is refused too. */
const heldHere = new Set<string>();

export class DirectoryLockedError extends Error {}

interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

/** Takes the lock on `dir` (which must exist); returns the function that releases it. */
export function lockDataDir(dir: string, logger: BrokerLogger): () => void {
  const real = fs.realpathSync(dir);
  const file = path.join(real, LOCK_FILE);
  if (heldHere.has(real)) throw new DirectoryLockedError(`data directory ${dir} is already in use by a broker in this process`);
  const me: LockOwner = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
      try {
        fs.writeSync(fd, JSON.stringify(me) + "\n");
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
      const owner = readOwner(file);
      const stale = staleReason(owner, file);
      if (!stale) {
        throw new DirectoryLockedError(
          `data directory ${dir} is in use by broker pid ${owner!.pid} on ${owner!.host} (since ${owner!.startedAt}; lock file ${file}). ` +
            `Stop that broker first; remove the lock file only if you are sure no broker uses the directory.`,
        );
      }
      logger.warn(`taking over the lock of ${dir}: ${stale}`);
      fs.rmSync(file, { force: true });
    }
  }
  heldHere.add(real);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    heldHere.delete(real);
    fs.rmSync(file, { force: true });
  };
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner;
    return Number.isSafeInteger(o.pid) && typeof o.host === "string" ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Why the lock held by `owner` is stale, or undefined when its owner may be running. */
function staleReason(owner: LockOwner | undefined, file: string): string | undefined {
  if (!owner) {
    // Another broker may be between creating the file and writing its pid.
    const ageMs = Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if (ageMs < 5000) throw new DirectoryLockedError(`data directory lock ${file} is being taken by another broker`);
    return "the lock file is unreadable (a crash while it was written)";
  }
  if (owner.host !== os.hostname()) return undefined;
  // Our own pid without our own lock: a previous run in a container that restarted.
  if (owner.pid === process.pid) return `it names this process's pid ${owner.pid} from an earlier run`;
  try {
    process.kill(owner.pid, 0);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH" ? `its broker (pid ${owner.pid}) is no longer running` : undefined;
  }
}
