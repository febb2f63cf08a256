/**
 * Measures what persisting one message costs (SessionStore.append: transcript append + fsync,
 * summary refresh, registry journal line + fsync), at a few registry sizes, on this machine's disk,
 * with the cross-process lock files and with in-process locks only, in alternating rounds so
 * disk noise hits both alike. Run: `npx tsx gateway/src/bench/append-cost.ts [samples] [rounds]`.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { probeEntry as entry } from "./probe-entry";
import { createProcessLocks, type FileLocks } from "../fs/file-lock";
import { silentLogger } from "../logger";
import { createSessionStore } from "../sessions/session-store";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Wall-clock milliseconds of each append, and CPU milliseconds per append (less sensitive to a busy machine). */
async function measure(sessionCount: number, samples: number, locks: FileLocks | undefined): Promise<{ times: number[]; cpuMs: number }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "gateway-append-cost-"));
  try {
    const store = createSessionStore({ dataDir, logger: silentLogger, now: () => new Date(), locks });
    const ref = { tenantId: randomUUID(), agent: "bench" };
    const keys: string[] = [];
    for (let index = 0; index < sessionCount; index += 1) {
      const key = `s${index}`;
      await store.open(ref, key, "hello");
      keys.push(key);
    }
    const times: number[] = [];
    let cpu = process.cpuUsage();
    for (let index = 0; index < samples + 20; index += 1) {
      if (index === 20) cpu = process.cpuUsage();
      const key = keys[(index * 7919) % keys.length]!;
      const started = performance.now();
      await store.append(ref, key, [entry(index)]);
      if (index >= 20) times.push(performance.now() - started);
    }
    const used = process.cpuUsage(cpu);
    await store.flushAll();
    return { times, cpuMs: (used.user + used.system) / 1000 / samples };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const samples = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 3);
const variants: [string, () => FileLocks | undefined][] = [
  ["in-process locks only", createProcessLocks],
  // The store's default: lock files under its data dir.
  ["cross-process lock files", () => undefined],
];
for (const size of (process.env.SIZES ?? "10,1000").split(",").map(Number)) {
  const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  const cpu = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, locks] of variants) {
      const result = await measure(size, samples, locks());
      times.get(name)!.push(...result.times);
      cpu.get(name)!.push(result.cpuMs);
    }
  }
  const line = variants.map(([name]) => {
    const all = times.get(name)!;
    const sorted = [...all].sort((a, b) => a - b);
    return `${name} median ${median(all).toFixed(3)} ms p95 ${(sorted[Math.floor(sorted.length * 0.95)] ?? 0).toFixed(3)} ms cpu ${median(cpu.get(name)!).toFixed(3)} ms`;
  });
  console.log(`${size} sessions (${samples * rounds} appends each): ${line.join("; ")}`);
}
