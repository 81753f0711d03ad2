/**
 * CPU time of this process's main thread and of the whole process (Linux /proc), for
 * costs per event that do not depend on how busy the rest of the machine is.
 */
import fs from "node:fs";

/** Clock ticks per second of /proc/.../stat (USER_HZ; 100 on Linux). */
const TICKS_PER_SEC = 100;

function ticks(path: string): number {
  const stat = fs.readFileSync(path, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

/** CPU seconds used so far: the main thread, and every thread of the process. */
export function cpuSeconds(): { main: number; process: number } {
  try {
    return { main: ticks(`/proc/self/task/${process.pid}/stat`) / TICKS_PER_SEC, process: ticks("/proc/self/stat") / TICKS_PER_SEC };
  } catch {
    return { main: NaN, process: NaN }; // not Linux
  }
}
