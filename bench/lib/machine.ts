/** The machine a benchmark ran on: numbers mean little without it. */
import os from "node:os";

/** Hardware and software of the benchmark host. */
export interface MachineInfo {
  /** CPU model as the OS reports it, e.g. "AMD EPYC 7763 64-Core Processor". */
  cpu: string;
  /** Cores Node may use (`os.availableParallelism()`: respects CPU affinity/quotas). */
  cores: number;
  /** Total memory in GiB, one decimal. */
  memoryGiB: number;
  /** Node.js version, e.g. "v20.19.0". */
  node: string;
  /** OS type, kernel release and architecture, e.g. "Linux 6.8.0 x64". */
  os: string;
  /** When the description was taken (ISO 8601, UTC). */
  date: string;
}

/** Describes the current host. */
export function describeMachine(now: Date = new Date()): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? "unknown",
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: now.toISOString(),
  };
}

/** A Markdown bullet list of the machine, for the top of a report. */
export function machineMarkdown(m: MachineInfo): string {
  return [
    `- CPU: ${m.cpu}, ${m.cores} cores available`,
    `- Memory: ${m.memoryGiB} GiB`,
    `- OS: ${m.os}`,
    `- Node.js: ${m.node}`,
    `- Date: ${m.date}`,
  ].join("\n");
}
