/**
 * "Physical floors" (issue 17): where a target stays out of reach, what the least cost on this
 * machine is, measured in the same run — one HTTP hop through a trivial Hono handler (lib/hono-hop.ts,
 * a path of the latency and throughput phases) and an fsync'd append (the append phase's raw case).
 */
import type { BenchResults } from "./context";
import { fmt, ratio, type Summary } from "./stats";

const ms = (summary: Summary) => `${fmt(summary.median)} / ${fmt(summary.p95)} ms`;

/** Rows of the floors table: [floor, this run, read against]; empty when no phase measured one. */
export function floorRows(results: BenchResults): string[][] {
  const rows: string[][] = [];
  const latency = (name: string) => results.latency?.find((row) => row.target === name);
  const direct = latency("direct");
  const hop = latency("hono-hop");
  if (direct && hop) {
    const floor = hop.ttft.median - direct.ttft.median;
    const added = (name: string, hops: number) => {
      const row = latency(name);
      return row ? `${name === "platform" ? "platform + gateway" : name} adds +${fmt(row.ttft.median - direct.ttft.median)} ms (${hops} hop${hops > 1 ? "s" : ""}: floor +${fmt(floor * hops)} ms)` : undefined;
    };
    rows.push([
      "one HTTP hop: a trivial Hono handler forwarding the stream (added TTFT, median, c=1)",
      `+${fmt(floor)} ms (TTFT ${fmt(hop.ttft.median)} ms, direct ${fmt(direct.ttft.median)} ms)`,
      [added("gateway", 1), added("platform", 2)].filter(Boolean).join("; "),
    ]);
  }
  const throughput = (name: string) => results.throughput?.find((row) => row.target === name && row.concurrency === 10);
  const hop10 = throughput("hono-hop");
  const direct10 = throughput("direct");
  if (hop10) {
    const gateway10 = throughput("gateway");
    rows.push([
      "one HTTP hop: runs/s through the trivial Hono handler, c=10",
      `${fmt(hop10.perSecond)} runs/s${direct10 ? ` (${ratio(hop10.perSecond, direct10.perSecond)} of direct)` : ""}; its CPU ${fmt(hop10.cpuMsPerRun["hono-hop"] ?? Number.NaN)} s per 1,000 runs`,
      gateway10 ? `gateway ${fmt(gateway10.perSecond)} runs/s = ${ratio(gateway10.perSecond, hop10.perSecond)} of the hop; gateway CPU ${fmt(gateway10.cpuMsPerRun.gateway ?? Number.NaN)} s per 1,000 runs` : "–",
    ]);
  }
  const append = results.append;
  if (append) {
    rows.push([
      `fsync: open(append) + write + fsync + close on ${append.disk} (median / p95)`,
      ms(append.raw),
      `a transcript append ${fmt(append.transcript.median)} ms (${ratio(append.transcript.median, append.raw.median)}); a run that persists with fsync cannot finish faster than this`,
    ]);
  }
  return rows;
}

export function floorsSection(results: BenchResults): string[] {
  const rows = floorRows(results);
  if (rows.length === 0) return [];
  return [
    "## Physical floors on this machine (issue 17)",
    "",
    "The least the work can cost here, measured in the same run: the trivial Hono handler (bench/lib/hono-hop.ts) forwards the same Anthropic request to the fake upstream with `fetch` and streams the answer back, with no other work; the fsync figure is the append phase's raw case.",
    "",
    "| floor | this run | read against |",
    "|---|---|---|",
    ...rows.map((row) => `| ${row.join(" | ")} |`),
    "",
  ];
}
