#!/usr/bin/env node
/**
 * The `tributary` command: serve, topic, consume, produce, demo (see src/cli/program.ts).
 * Errors: a wrong command line exits with 2 and points at `--help`; any other error
 * exits with 1 as one line, `tributary: <message>` (with its stack trace only under
 * TRIBUTARY_DEBUG=1). Benchmarks: `npm run bench` in a checkout.
 */
import fs from "node:fs";
import { CommanderError, type Command } from "commander";
import { buildProgram, commandPath } from "./cli/program.js";
import { UsageError } from "./cli/usage.js";

// grpc-js passes an IP address as the TLS server name (tributarys://127.0.0.1), and Node
// warns about it (DEP0123) on stderr. The certificate is still checked against the
// address, so the command line drops that one warning; other warnings are printed.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const code = typeof rest[0] === "object" && rest[0] !== null ? (rest[0] as { code?: string }).code : rest[1];
  if (code === "DEP0123") return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const { version } = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
const program = buildProgram(version);

/** Every command's parse errors are printed as `tributary: …` with a pointer to its help. */
const usageHint = (cmd: Command): string => `Run '${commandPath(cmd)} --help' for usage.`;
(function configure(cmd: Command): void {
  cmd.configureOutput({ outputError: (message, write) => write(`tributary: ${message.replace(/^error: /, "")}${usageHint(cmd)}\n`) });
  cmd.commands.forEach(configure);
})(program);

let running: Command = program;
program.hook("preAction", (_program, action) => {
  running = action;
});

try {
  if (process.argv.length <= 2) program.outputHelp();
  else await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Already printed by outputError (or help and version, which exit with 0).
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof UsageError) {
    console.error(`tributary: ${err.message}\n${usageHint(running)}`);
    process.exitCode = 2;
  } else {
    const e = err instanceof Error ? err : new Error(String(err));
    console.error(process.env.TRIBUTARY_DEBUG === "1" ? `tributary: ${e.stack ?? e.message}` : `tributary: ${e.message}`);
    process.exitCode = 1;
  }
}
