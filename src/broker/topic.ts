/** A topic on disk: its metadata file, one partition log per partition, consumer cursors. */
import fs from "node:fs";
import path from "node:path";
import { PartitionLog, type PartitionLogOptions } from "./partition-log.js";
import type { PluginSpecMsg } from "../protocol/protocol.js";

export interface TopicMeta {
  name: string;
  partitions: number;
  validator?: PluginSpecMsg;
  partitionSelector?: PluginSpecMsg;
  serializer?: PluginSpecMsg;
  createdAtMs: number;
}

const META_FILE = "topic.json";
const CURSORS_FILE = "cursors.json";

/** Writes a file so that a crash leaves either the old or the new content. */
function writeFileAtomic(file: string, content: string): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, content);
  const fd = fs.openSync(tmp, "r");
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

export class Topic {
  private cursors: Record<string, Record<string, number>> = {};

  private constructor(readonly dir: string, readonly meta: TopicMeta, readonly logs: PartitionLog[]) {
    const cursorsPath = path.join(dir, CURSORS_FILE);
    if (fs.existsSync(cursorsPath)) this.cursors = JSON.parse(fs.readFileSync(cursorsPath, "utf8"));
  }

  static create(dir: string, meta: TopicMeta, options: PartitionLogOptions): Topic {
    fs.mkdirSync(dir, { recursive: true });
    const logs = Array.from({ length: meta.partitions }, (_, p) => PartitionLog.open(partitionDir(dir, p), options));
    writeFileAtomic(path.join(dir, META_FILE), JSON.stringify(meta, null, 2));
    return new Topic(dir, meta, logs);
  }

  /** Opens a topic directory; undefined when it has no (complete) metadata file. */
  static open(dir: string, options: PartitionLogOptions): Topic | undefined {
    const metaPath = path.join(dir, META_FILE);
    if (!fs.existsSync(metaPath)) return undefined;
    const meta = JSON.parse(fs.readFileSync(metaPath, "utf8")) as TopicMeta;
    const logs = Array.from({ length: meta.partitions }, (_, p) => PartitionLog.open(partitionDir(dir, p), options));
    return new Topic(dir, meta, logs);
  }

  commitCursor(consumer: string, partition: number, nextOffset: number): void {
    (this.cursors[consumer] ??= {})[String(partition)] = nextOffset;
    writeFileAtomic(path.join(this.dir, CURSORS_FILE), JSON.stringify(this.cursors));
  }

  fetchCursor(consumer: string, partition: number): number | undefined {
    return this.cursors[consumer]?.[String(partition)];
  }

  close(): void {
    for (const log of this.logs) log.close();
  }
}

const partitionDir = (dir: string, p: number): string => path.join(dir, `partition-${p}`);
