/**
 * How busy each thread of a producing process was during a run: the event-loop
 * utilization (time not idle, 0..1) of the main thread, the pipeline workers, the
 * transport thread and the embedded broker's thread. A thread that waits for work shows
 * up as idle time: the scheduling gaps the parallel scenario looks for.
 */
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import type { Worker } from "node:worker_threads";
import type { Driver, ThreadPool } from "../../src/index.js";
import { transportWorker } from "../../src/internal.js";

type Elu = EventLoopUtilization;
interface Probe {
  name: string;
  read(): Elu;
}

export interface Utilization {
  main: number;
  /** Mean over the pool's workers (NaN without workers). */
  workers: number;
  transport: number;
  broker: number;
}

/** Starts measuring; `stop()` returns the busy fraction of each thread since. */
export function measureUtilization(driver: Driver, pool: ThreadPool): { stop(): Utilization } {
  const probes: Probe[] = [{ name: "main", read: () => performance.eventLoopUtilization() }];
  const worker = (name: string, w: Worker | undefined) => w && probes.push({ name, read: () => w.performance.eventLoopUtilization() });
  pool.workerThreads.forEach((w) => worker("worker", w));
  worker("broker", driver.brokerWorker);
  const start = new Map<Probe, Elu>(probes.map((p) => [p, p.read()]));
  const transportAtStart = transportWorker()?.performance.eventLoopUtilization();
  return {
    stop() {
      // The transport thread may have started after the measurement began: then count it from its start.
      const t = transportWorker();
      const transport = t ? performance.eventLoopUtilization(t.performance.eventLoopUtilization(), transportAtStart).utilization : NaN;
      const busy = (p: Probe) => {
        const now = p.read();
        return performance.eventLoopUtilization(now, start.get(p)!).utilization;
      };
      const of = (name: string) => probes.filter((p) => p.name === name).map(busy);
      const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
      return { main: mean(of("main")), workers: mean(of("worker")), transport, broker: mean(of("broker")) };
    },
  };
}
