/**
 * Claiming a producer's write-ahead log directory, on the producer's own thread before
 * the transport starts: one live producer per (WAL dir, topic, name), and the producer ID
 * that the WAL's batches were, and will be, sent under.
 *
 * The producer ID must outlive the process: a restarted producer re-sends the batches
 * the log never acknowledged under their original (producer ID, partition, sequence), so
 * the log stores each once. And a sequence number must never be used twice under one
 * producer ID, or the log would answer a new batch with an old batch's IDs: the meta
 * file keeps, per partition, a floor below which sequences were used, and is rewritten
 * before any WAL segment holding higher ones is deleted.
 */
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { InvalidArgumentError, TributaryError } from "../../core/errors.js";

/** What `producer.json` holds. */
export interface WalMeta {
  version: 1;
  topic: string;
  name: string;
  producerId: string;
  /** Per partition: every sequence below this was used (segments holding them may be gone). */
  seqFloor: Record<string, number>;
}

export interface WalClaim {
  /** The WAL directory of this topic and producer name. */
  dir: string;
  meta: WalMeta;
  /** Gives the directory up (on close). */
  release(): void;
}

const META = "producer.json";
const LOCK = "lock";

/** A path component for a name: itself when plainly safe, else a digest (no `..`, no separators). */
function component(name: string): string {
  if (/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(name)) return name;
  return `n-${createHash("sha256").update(name).digest("hex").slice(0, 32)}`;
}

/** The WAL directory of a producer. */
export function walDirOf(root: string, topic: string, name: string): string {
  return path.join(root, component(topic), component(name));
}

/**
 * Takes the WAL directory of (topic, name) under `root`, creating it and its producer ID
 * on first use.
 * @throws InvalidArgumentError when another live producer holds it
 */
export function claimWal(root: string, topic: string, name: string, newProducerId: () => string = () => `${name}-${randomUUID()}`): WalClaim {
  const dir = walDirOf(root, topic, name);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new TributaryError(`cannot create the WAL directory ${dir}: ${(err as Error).message}`, { code: "WAL_IO", cause: err });
  }
  const lockPath = path.join(dir, LOCK);
  takeLock(lockPath, dir);
  let meta: WalMeta;
  try {
    meta = readMeta(dir) ?? { version: 1, topic, name, producerId: newProducerId(), seqFloor: {} };
    if (meta.topic !== topic || meta.name !== name) {
      throw new InvalidArgumentError(`the WAL in ${dir} belongs to producer '${meta.name}' of topic '${meta.topic}', not '${name}' of '${topic}'`);
    }
    writeMeta(dir, meta);
  } catch (err) {
    fs.rmSync(lockPath, { force: true });
    throw err;
  }
  let released = false;
  return {
    dir,
    meta,
    release: () => {
      if (released) return;
      released = true;
      fs.rmSync(lockPath, { force: true });
    },
  };
}

function takeLock(lockPath: string, dir: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: "wx" });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new TributaryError(`cannot lock the WAL ${dir}: ${(err as Error).message}`, { code: "WAL_IO", cause: err });
    }
    const holder = Number(fs.readFileSync(lockPath, "utf8"));
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
      const who = holder === process.pid ? "another producer of this process" : `process ${holder}`;
      throw new InvalidArgumentError(`the WAL ${dir} is in use by ${who}: one producer per WAL directory, topic and name`);
    }
    // The holder died without releasing it (a crash): the lock is stale.
    fs.rmSync(lockPath, { force: true });
  }
  throw new InvalidArgumentError(`the WAL ${dir} was locked by another process while this one took it over`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed process not yet reaped by its parent still answers signal 0: a zombie holds nothing.
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

function readMeta(dir: string): WalMeta | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, META), "utf8");
  } catch {
    return undefined;
  }
  try {
    const meta = JSON.parse(text) as WalMeta;
    if (meta.version !== 1 || typeof meta.producerId !== "string" || typeof meta.seqFloor !== "object") throw new Error("unexpected content");
    return meta;
  } catch (err) {
    throw new TributaryError(`the WAL meta file ${path.join(dir, META)} is damaged (${(err as Error).message}); move the directory away to start afresh`, { code: "WAL_CORRUPT", cause: err });
  }
}

/** Writes the meta file so that a crash leaves the old or the new one, both on disk. */
export function writeMeta(dir: string, meta: WalMeta): void {
  const file = path.join(dir, META);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, JSON.stringify(meta));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  syncDir(dir);
}

/** fsyncs a directory, so that names created or removed in it survive a power loss. */
export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
