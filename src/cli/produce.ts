/**
 * `tributary produce TOPIC`: events from stdin, one JSON line each, through the topic's
 * pipeline on the worker pool; one ack line per input line on stdout (or only the
 * failed ones, or a summary), progress on stderr.
 *
 * stdin is read only as fast as the producer takes events (and stdout's reader takes
 * acks): a huge file piped in keeps memory bounded.
 */
import fs from "node:fs";
import { Driver } from "../client/driver.js";
import { BrokerError, ValidationError } from "../core/errors.js";
import type { EventData } from "../core/types.js";
import { ACK_MODES, CpuMeter, LINE_MODES, placementLabel, producerSettings, type PipelineFlags } from "./producing.js";
import { INTERRUPTED_EXIT_CODE, onInterrupt } from "./interrupt.js";
import { LineOutput } from "./output.js";
import { Progress } from "./progress.js";
import { NOT_SCALAR, scanField, UNSURE, type ScanResult } from "./json-scan.js";
import { clientOptions, partitionsOf, UsageError } from "./usage.js";

export interface ProduceOptions extends PipelineFlags {
  broker: string;
  keyField?: string;
  dataField?: string;
  partition?: number;
  lineMode: (typeof LINE_MODES)[number];
  acks: (typeof ACK_MODES)[number];
}

/** An input line made into an event (one object, filled anew for every line). */
export interface LineEvent {
  metadata: unknown;
  data: EventData | undefined;
  key: string | undefined;
}

/**
 * How a line becomes an event, per the flags: the parser fills `event` and returns
 * undefined, or returns why the line is no event.
 */
export function lineParser(options: Pick<ProduceOptions, "keyField" | "dataField" | "lineMode">): (line: string, event: LineEvent) => string | undefined {
  const { keyField, dataField, lineMode } = options;
  const set = (event: LineEvent, metadata: unknown, key?: string, data?: EventData): undefined => {
    event.metadata = metadata;
    event.key = key;
    event.data = data;
    return undefined;
  };
  if (lineMode === "raw") {
    if (keyField !== undefined || dataField !== undefined) throw new UsageError("--key-field and --data-field need --line-mode json (raw lines have no fields)");
    // A string as metadata is JSON text the pipeline parses: quote the line to keep it a string.
    return (line, event) => set(event, JSON.stringify(line));
  }
  // The line itself is the metadata: the pipeline parses it, on the worker threads.
  if (keyField === undefined && dataField === undefined) return (line, event) => set(event, line);
  const keyOf = (value: ScanResult): string | undefined | typeof NOT_SCALAR =>
    value === NOT_SCALAR || (typeof value === "object" && value !== null) ? NOT_SCALAR : value === undefined || value === null ? undefined : String(value);
  const notScalar = `key field '${keyField}' must be a string or number, not an object or array`;
  return (line, event) => {
    // Only the key is needed here: read it without parsing the line (see json-scan.ts);
    // the line stays text for the pipeline.
    if (dataField === undefined) {
      const value = scanField(line, keyField!);
      if (value !== UNSURE) {
        const key = keyOf(value);
        return key === NOT_SCALAR ? notScalar : set(event, line, key);
      }
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      return `metadata is not valid JSON: ${(err as Error).message}`;
    }
    const fields = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    const key = keyField !== undefined && fields ? keyOf(fields[keyField] as ScanResult) : undefined;
    if (key === NOT_SCALAR) return notScalar;
    if (dataField === undefined || !fields || fields[dataField] === undefined) return set(event, line, key);
    const encoded = fields[dataField];
    if (typeof encoded !== "string" || !BASE64.test(encoded)) return `data field '${dataField}' must be a base64 string`;
    delete fields[dataField];
    return set(event, fields, key, Buffer.from(encoded, "base64"));
  };
}

const BLANK = /^\s*$/;
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** The text of an event's failure for its ack line. */
function reasonOf(err: Error): string {
  if (err instanceof ValidationError) return err.stage === "input" ? err.reason : `rejected by the ${err.stage}: ${err.reason}`;
  return err.message;
}

/** stdin; a file redirected to it is read in blocks of 1 MiB instead of 64 KiB. */
function stdin(): AsyncIterable<Buffer | string> {
  try {
    if (fs.fstatSync(0).isFile()) return fs.createReadStream("", { fd: 0, highWaterMark: 1 << 20, autoClose: false });
  } catch {
    // No stdin to look at: read process.stdin, which says what is wrong.
  }
  return process.stdin;
}

const NEWLINE = 10;
const CR = 13;

/**
 * Splits a byte stream into lines (without `\n` or `\r\n`), a block at a time. A
 * newline byte is never part of a multi-byte UTF-8 character, so each block is cut at
 * its last newline and decoded at once; only the piece of a line across blocks is copied.
 */
export async function* lines(input: AsyncIterable<Buffer | string>): AsyncGenerator<string[]> {
  const withoutCr = (line: string): string => (line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line);
  /** The lines of `text`, each ended by a newline. */
  const split = (text: string, out: string[]): void => {
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      out.push(text.charCodeAt(nl - 1) === CR ? text.slice(start, nl - 1) : text.slice(start, nl));
      start = nl + 1;
    }
  };
  let rest: Buffer | undefined;
  for await (const chunk of input) {
    const block = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    const last = block.lastIndexOf(NEWLINE);
    if (last < 0) {
      rest = rest ? Buffer.concat([rest, block]) : Buffer.from(block);
      continue;
    }
    const out: string[] = [];
    let from = 0;
    if (rest) {
      // The line begun in an earlier block.
      from = block.indexOf(NEWLINE) + 1;
      split(Buffer.concat([rest, block.subarray(0, from)]).toString("utf8"), out);
    }
    if (from <= last) split(block.toString("utf8", from, last + 1), out);
    // A copy: the rest must not keep the whole block alive.
    rest = last + 1 < block.length ? Buffer.from(block.subarray(last + 1)) : undefined;
    yield out;
  }
  if (rest) yield [withoutCr(rest.toString("utf8"))];
}

export async function produce(topicName: string, options: ProduceOptions): Promise<void> {
  const parse = lineParser(options);
  const out = new LineOutput();
  const interrupt = onInterrupt();
  const driver = await Driver.connect(options.broker, { tributary: clientOptions(), signal: interrupt.signal });
  try {
    const topic = await driver.openTopic(topicName);
    if (options.partition !== undefined && options.partition >= topic.partitions) {
      throw new BrokerError("BAD_PARTITION", `--partition ${options.partition}: ${partitionsOf(topicName, topic.partitions)}`);
    }
    const pool = driver.makeThreadPool(options.threads);
    const producer = topic.producer({ name: "cli-produce", threadPool: pool, ...producerSettings(options) });
    const progress = new Progress("produce", undefined);

    let lineNo = 0;
    let events = 0;
    let acknowledged = 0;
    let failed = 0;
    /** Lines that failed here, before becoming events (bad JSON, a bad key or data field). */
    let rejected = 0;
    const errors: { line: number; error: string }[] = [];
    const each = options.acks === "each";
    const printErrors = options.acks !== "summary";
    const fail = (line: number, error: string, code: string): void => {
      failed++;
      if (errors.length < 10) errors.push({ line, error });
      if (printErrors) out.line(`{"line":${line},"error":${JSON.stringify(error)},"code":"${code}"}`);
    };
    // Lines that are no event (blank, or failed here): the event count when each came. An
    // event's line is then its index plus the skipped lines before it, with no per-event
    // bookkeeping (skipped lines are rare).
    const skipped: number[] = [];
    const lineOf = (index: number): number => {
      let lo = 0;
      let hi = skipped.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (skipped[mid]! <= index) lo = mid + 1;
        else hi = mid;
      }
      return index + 1 + lo;
    };
    // One listener for every event's outcome, no Promise or closure per event: the ack
    // lines, in the order the acks arrive.
    producer.on("delivery", (error, id, partition, future) => {
      if (error) fail(lineOf(future.index), reasonOf(error), (error as { code?: string }).code ?? "ERROR");
      else {
        acknowledged++;
        if (each) out.line(`{"line":${lineOf(future.index)},"partition":${partition},"id":${id}}`);
      }
    });
    const { partition } = options;
    const start = performance.now();
    const cpu = new CpuMeter();
    const event: LineEvent = { metadata: undefined, data: undefined, key: undefined };
    for await (const batch of lines(stdin())) {
      for (const text of batch) {
        lineNo++;
        if (BLANK.test(text)) {
          // Not an event, but still a line.
          skipped.push(events);
          continue;
        }
        const error = parse(text, event);
        if (error !== undefined) {
          skipped.push(events);
          rejected++;
          fail(lineNo, error, "VALIDATION");
          continue;
        }
        events++;
        producer.push(event.metadata, event.data, event.key === undefined && partition === undefined ? undefined : { key: event.key, partition });
      }
      progress.update(acknowledged + failed);
      // Read on only when the producer (and whoever reads the acks) can take more.
      if (!producer.hasCapacity) await producer.ready({ signal: interrupt.signal }).catch(() => {});
      if (out.blocked) await out.drained();
      if (interrupt.signal.aborted) break;
    }
    await producer.flush();
    const seconds = (performance.now() - start) / 1000;
    const cpuPerEvent = cpu.perEvent(events);
    progress.done(acknowledged + failed);
    const rate = Math.round(events / seconds);
    if (options.acks === "summary") {
      out.line(JSON.stringify({ topic: topicName, lines: lineNo, events, acknowledged, failed, seconds: Number(seconds.toFixed(3)), eventsPerSecond: rate, cpuMicrosPerEvent: Number(cpuPerEvent), errors }));
    }
    await out.end();
    const n = (x: number): string => x.toLocaleString("en-US");
    console.error(
      `produced to '${topicName}': ${n(acknowledged)} of ${n(events + rejected)} lines acknowledged, ${n(failed)} failed, in ${seconds.toFixed(2)} s ` +
        `(${n(rate)} events/s, ${cpuPerEvent} µs CPU per event; ${placementLabel(pool, options.threads, topic)})`,
    );
    if (interrupt.received) {
      console.error(`tributary: produce interrupted (${interrupt.received}) after line ${n(lineNo)}`);
      process.exitCode = INTERRUPTED_EXIT_CODE;
    } else if (failed > 0) {
      const first = errors[0]!;
      console.error(`tributary: ${n(failed)} line${failed === 1 ? "" : "s"} failed (first: line ${first.line}: ${first.error})`);
      process.exitCode = 1;
    }
  } finally {
    interrupt.dispose();
    await driver.close();
  }
}
