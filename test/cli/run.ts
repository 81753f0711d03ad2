/** Runs the built `tributary` command as a child process, the way a user's shell does. */
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll } from "vitest";
import { Driver } from "../../dist/src/index.js";
import { CLI, removeDir, testBroker } from "../helpers.js";

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to the environment (undefined removes a variable). TRIBUTARY_* of the test's own environment are dropped. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed (default: stdin closed at once). */
  input?: string | Buffer;
  timeoutMs?: number;
}

export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("TRIBUTARY_")) env[k] = v;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts the command; stdout and stderr are gathered by `finished`. */
export function startCli(args: string[], options: CliOptions = {}): { child: ChildProcess; finished: Promise<CliResult>; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(options.env), stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.stdin!.on("error", () => {}); // a command that exits without reading all of stdin
  if (options.input !== undefined) child.stdin!.end(options.input);
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  const finished = new Promise<CliResult>((resolve) =>
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, finished, stdout: () => stdout, stderr: () => stderr };
}

/** Runs the command to its end (stdin: `input`, or closed). */
export function cli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const run = startCli(args, { ...options, input: options.input ?? "" });
  return run.finished;
}

/** Resolves once `read()` matches `pattern` (polling), or rejects after `timeoutMs`. */
export async function waitFor(read: () => string, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(read());
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in: ${read().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** No stack trace lines ("    at fn (file:line)") in a command's output. */
export const STACK_LINE = /^\s+at .+\(?.*:\d+:\d+\)?$/m;

/**
 * A broker on 127.0.0.1 (port 0) for the tests of one file, and a driver connected to
 * it: started before them (then `setup` runs with the driver), closed after them.
 * `env` points the commands at it ($TRIBUTARY_BROKER).
 */
export function fileBroker(setup: (driver: Driver) => Promise<void> = async () => {}): { readonly url: string; readonly dir: string; readonly driver: Driver; readonly env: Record<string, string> } {
  let broker: Awaited<ReturnType<typeof testBroker>>;
  let driver: Driver;
  beforeAll(async () => {
    broker = await testBroker();
    driver = await Driver.connect(broker.url);
    await setup(driver);
  });
  afterAll(async () => {
    await driver?.close();
    await broker?.close();
    if (broker) removeDir(broker.dir);
  });
  return {
    get url() {
      return broker.url;
    },
    get dir() {
      return broker.dir;
    },
    get driver() {
      return driver;
    },
    get env() {
      return { TRIBUTARY_BROKER: broker.url };
    },
  };
}
