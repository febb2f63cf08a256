/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time per function
 * and per area (a package, a source folder, node core, GC), optionally only for samples inside a
 * time window taken with process.hrtime (V8's profile clock is the same CLOCK_MONOTONIC).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { ProfileSummary } from "./context";

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Microseconds on the profile clock. */
export const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

export function areaOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(program)") return "(program: native, not attributed)";
    return `(native) ${functionName}`;
  }
  if (url.startsWith("node:")) {
    const parts = url.slice(5).split("/");
    return `node:${parts[0] === "internal" ? parts.slice(1, 3).join("/").replace(/\.js$/, "") : parts[0]}`;
  }
  const modules = url.lastIndexOf("/node_modules/");
  if (modules !== -1) {
    const rest = url.slice(modules + 14).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const match = /\/(gateway|platform|packages\/[^/]+|scripts|bench)\/(src\/)?(.*)$/.exec(url);
  if (match) return `${match[1]}: ${match[3]}`;
  return url;
}

export async function summarizeProfile(file: string, title: string, window?: { from: number; to: number }, topN = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const inclusive = new Map<string, { name: string; where: string; selfMs: number }>();
  const byFunction = new Map<string, { name: string; where: string; selfMs: number }>();
  const byArea = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  for (let index = 0; index < profile.samples.length; index += 1) {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (window && (at < window.from || at > window.to)) continue;
    const node = nodes.get(profile.samples[index] ?? -1);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") continue;
    const ms = delta / 1000;
    total += ms;
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    const where = url ? `${area.startsWith("(") ? url : area}:${lineNumber + 1}` : area;
    const key = `${functionName}@${where}`;
    const entry = byFunction.get(key) ?? { name: functionName || "(anonymous)", where, selfMs: 0 };
    entry.selfMs += ms;
    byFunction.set(key, entry);
    // Inclusive time of the product's own functions (gateway, platform, packages) on this stack.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parents.get(id)) {
      const frame = nodes.get(id)?.callFrame;
      if (!frame?.url || !/\/(gateway|platform|packages\/[^/]+)\/src\//.test(frame.url) || /node_modules/.test(frame.url)) continue;
      const name = frame.functionName || "(anonymous)";
      const frameKey = `${name}@${areaOf(frame.url, name)}`;
      if (seen.has(frameKey)) continue;
      seen.add(frameKey);
      const total = inclusive.get(frameKey) ?? { name, where: areaOf(frame.url, name), selfMs: 0 };
      total.selfMs += ms;
      inclusive.set(frameKey, total);
    }
  }
  const percent = (ms: number) => (total ? (100 * ms) / total : 0);
  return {
    title,
    totalMs: total,
    top: [...byFunction.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, topN)
      .map((entry) => ({ ...entry, percent: percent(entry.selfMs) })),
    inclusive: [...inclusive.values()]
      .filter((entry) => entry.name !== "(anonymous)")
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, topN)
      .map((entry) => ({ name: entry.name, where: entry.where, totalMs: entry.selfMs, percent: percent(entry.selfMs) })),
    byArea: [...byArea.entries()]
      .map(([area, selfMs]) => ({ area, selfMs, percent: percent(selfMs) }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, topN),
  };
}

/**
 * The main thread's .cpuprofile in `dir`: the largest one (with `--import tsx` the ESM loader
 * hooks run in a worker thread that writes a small profile of its own).
 */
export async function newestProfile(dir: string): Promise<string | undefined> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".cpuprofile"));
  const sized = await Promise.all(names.map(async (name) => ({ name, size: (await stat(path.join(dir, name))).size })));
  const largest = sized.sort((a, b) => b.size - a.size)[0];
  return largest ? path.join(dir, largest.name) : undefined;
}
