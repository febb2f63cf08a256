/**
 * Preloaded into a service by the bench (`--import bench/lib/probe.ts`): on SIGUSR2 it writes the
 * process's memory and active resources (sockets, timers, pending fs requests) to
 * $BENCH_PROBE_FILE, running a full GC first when --expose-gc is on, so a soak can tell a leak
 * from garbage. The file is opened once at start-up, so the probe still answers when the process
 * has run out of descriptors. Nothing else changes in the service.
 */
import { ftruncateSync, openSync, writeSync } from "node:fs";

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  const descriptor = openSync(file, "w", 0o600);
  process.on("SIGUSR2", () => {
    const collect = (globalThis as { gc?: () => void }).gc;
    collect?.();
    const resources: Record<string, number> = {};
    for (const name of process.getActiveResourcesInfo()) resources[name] = (resources[name] ?? 0) + 1;
    const memory = process.memoryUsage();
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    const report = JSON.stringify({ at: Date.now(), rss: memory.rss, heapUsed: memory.heapUsed, external: memory.external, resources, handles });
    ftruncateSync(descriptor, 0);
    writeSync(descriptor, report, 0);
  });
}
