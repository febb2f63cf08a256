import { describe, expect, it } from "vitest";
import type { BenchResults, LatencyRow, ThroughputRow } from "./context";
import { parseOptions } from "./options";
import { floorRows, floorsSection } from "./report-floors";
import { summarize } from "./stats";

const base = (): BenchResults => ({ startedAt: new Date(0), options: parseOptions([]), notes: [], profiles: [] });
const latency = (target: LatencyRow["target"], ttftMs: number): LatencyRow => ({ target, ttft: summarize([ttftMs]), total: summarize([ttftMs * 3]), errors: 0 });
const throughput = (target: ThroughputRow["target"], perSecond: number, cpuMsPerRun: ThroughputRow["cpuMsPerRun"]): ThroughputRow => ({
  target,
  concurrency: 10,
  completed: perSecond * 8,
  errors: {},
  seconds: 8,
  perSecond,
  latency: summarize([10]),
  cpuMsPerRun,
});

describe("the physical floors", () => {
  it("reads the gateway against one trivial Hono hop, and platform + gateway against two", () => {
    const results = { ...base(), latency: [latency("direct", 7), latency("hono-hop", 8), latency("gateway", 14), latency("platform", 17.5)] };
    const [hop] = floorRows(results);
    expect(hop![1]).toBe("+1.00 ms (TTFT 8.00 ms, direct 7.00 ms)");
    expect(hop![2]).toBe("gateway adds +7.00 ms (1 hop: floor +1.00 ms); platform + gateway adds +10.5 ms (2 hops: floor +2.00 ms)");
  });

  it("compares runs/s and CPU per 1,000 runs with the hop's", () => {
    const results = { ...base(), throughput: [throughput("direct", 10_000, {}), throughput("hono-hop", 2_000, { "hono-hop": 0.9 }), throughput("gateway", 400, { gateway: 4.5 })] };
    const [row] = floorRows(results);
    expect(row![1]).toBe("2,000 runs/s (×0.20 of direct); its CPU 0.90 s per 1,000 runs");
    expect(row![2]).toBe("gateway 400 runs/s = ×0.20 of the hop; gateway CPU 4.50 s per 1,000 runs");
  });

  it("names fsync's floor from the append phase", () => {
    const results = { ...base(), append: { raw: summarize([2]), transcript: summarize([2.5]), store: summarize([3]), storeAt: {}, disk: "ext4 on /dev/vda" } };
    const [row] = floorRows(results);
    expect(row![0]).toContain("fsync");
    expect(row![1]).toBe("2.00 / 2.00 ms");
    expect(row![2]).toContain("×1.25");
  });

  it("leaves the section out when nothing measured a floor (e.g. an older results file without the hop)", () => {
    expect(floorsSection({ ...base(), latency: [latency("direct", 7), latency("gateway", 14)] })).toEqual([]);
  });
});
