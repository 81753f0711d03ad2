/** A topic on disk: its metadata file, one partition log per partition, consumer cursors. */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { crc32 } from "node:zlib";
import { writeFileAtomic } from "./atomic-file.js";
import { CursorStore } from "./cursor-store.js";
import { PartitionLog, type PartitionLogOptions } from "./partition-log.js";
import type { StorageContext } from "./segment.js";
import type { PluginSpecMsg } from "../protocol/protocol.js";

export interface TopicMeta {
  name: string;
  /**
   * Identity of this incarnation of the name: a topic deleted and created again gets a
   * new one, so a producer still holding the old one is refused instead of writing into
   * the new topic.
   */
  id: string;
  partitions: number;
  validator?: PluginSpecMsg;
  partitionSelector?: PluginSpecMsg;
  serializer?: PluginSpecMsg;
  createdAtMs: number;
}

export const META_FILE = "topic.json";

/** A topic directory the broker could not open; the message says why. */
export class TopicOpenError extends Error {}

export const newTopicId = (): string => randomBytes(8).toString("hex");

/**
 * topic.json: the metadata plus a crc32 of its compact JSON, so a changed byte that still
 * parses (inside a plugin's module name, say) takes the topic offline instead of
 * changing what its producers run.
 */
function encodeMeta(meta: TopicMeta): string {
  return JSON.stringify({ ...meta, crc32: crc32(JSON.stringify(meta)) }, null, 2);
}

function checksumProblem(parsed: Record<string, unknown>): string | undefined {
  if (!("crc32" in parsed)) return undefined; // written by tributary 0.1
  const { crc32: stored, ...meta } = parsed;
  return stored === crc32(JSON.stringify(meta)) ? undefined : "fails its checksum";
}

const partitionDir = (dir: string, p: number): string => path.join(dir, `partition-${p}`);

export class Topic {
  private constructor(
    readonly dir: string,
    readonly meta: TopicMeta,
    readonly logs: PartitionLog[],
    readonly cursors: CursorStore,
  ) {}

  /**
   * Lays out a new topic in `dir` (a staging directory the broker renames into place):
   * the partition directories and the metadata file, all durable. Opens nothing.
   */
  static layOut(ctx: StorageContext, dir: string, meta: TopicMeta): void {
    ctx.io.mkdir(dir);
    for (let p = 0; p < meta.partitions; p++) ctx.io.mkdir(partitionDir(dir, p));
    writeFileAtomic(ctx.io, path.join(dir, META_FILE), encodeMeta(meta));
  }

  /**
   * Opens a topic directory. Throws TopicOpenError naming the problem when its metadata
   * is missing or unreadable; nothing stays open after a failure.
   */
  static open(ctx: StorageContext, dir: string, options: PartitionLogOptions, maxConsumers: number): Topic {
    const meta = Topic.readMeta(ctx, dir);
    const logs: PartitionLog[] = [];
    try {
      for (let p = 0; p < meta.partitions; p++) {
        if (!ctx.io.exists(partitionDir(dir, p))) {
          ctx.logger.warn(`topic '${meta.name}' partition ${p}: directory ${partitionDir(dir, p)} is missing; the partition starts empty`);
        }
        logs.push(PartitionLog.open(ctx, partitionDir(dir, p), `topic '${meta.name}' partition ${p}`, options));
      }
      return new Topic(dir, meta, logs, new CursorStore(ctx, dir, `topic '${meta.name}'`, maxConsumers));
    } catch (err) {
      for (const log of logs) log.close();
      throw err;
    }
  }

  private static readMeta(ctx: StorageContext, dir: string): TopicMeta {
    const file = path.join(dir, META_FILE);
    if (!ctx.io.exists(file)) throw new TopicOpenError(`${file} is missing`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(ctx.io.readFile(file).toString("utf8"));
    } catch (err) {
      throw new TopicOpenError(`${file} is not valid JSON (${(err as Error).message})`);
    }
    const problem = metaProblem(parsed, path.basename(dir)) ?? checksumProblem(parsed as Record<string, unknown>);
    if (problem) throw new TopicOpenError(`${file}: ${problem}`);
    const { crc32: _, ...meta } = parsed as TopicMeta & { crc32?: number };
    if (meta.id === undefined) {
      // Written by tributary 0.1, before topics had an identity.
      meta.id = newTopicId();
      writeFileAtomic(ctx.io, file, encodeMeta(meta));
    }
    return meta;
  }

  close(): void {
    this.cursors.close();
    for (const log of this.logs) log.close();
  }
}

function metaProblem(m: unknown, dirName: string): string | undefined {
  if (typeof m !== "object" || m === null || Array.isArray(m)) return "not a JSON object";
  const meta = m as Record<string, unknown>;
  if (meta.name !== dirName) return `names topic '${String(meta.name).slice(0, 60)}' but lies in directory '${dirName}'`;
  if (meta.id !== undefined && (typeof meta.id !== "string" || meta.id.length === 0)) return "id is not a non-empty string";
  if (!Number.isSafeInteger(meta.partitions) || (meta.partitions as number) < 1) return `partition count ${String(meta.partitions)} is not a positive integer`;
  if (typeof meta.createdAtMs !== "number") return "createdAtMs is not a number";
  for (const key of ["validator", "partitionSelector", "serializer"]) {
    const spec = meta[key];
    if (spec === undefined || spec === null) continue;
    if (typeof spec !== "object") return `${key} is not an object`;
    for (const field of ["module", "exportName", "configJson"]) {
      const v = (spec as Record<string, unknown>)[field];
      if (v !== undefined && typeof v !== "string") return `${key}.${field} is not a string`;
    }
  }
  return undefined;
}
