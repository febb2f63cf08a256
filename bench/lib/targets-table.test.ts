import { describe, expect, it } from "vitest";
import type { BenchResults, ThroughputRow } from "./context";
import { parseOptions } from "./options";
import { summarize } from "./stats";
import { evaluateTargets, statusText } from "./targets-table";

const MB = 1048576;
const base = (): BenchResults => ({ startedAt: new Date(0), options: parseOptions([]), notes: [], profiles: [] });
const throughput = (target: ThroughputRow["target"], concurrency: number, cpuMsPerRun: ThroughputRow["cpuMsPerRun"], latencyMs = 50): ThroughputRow => ({
  target,
  concurrency,
  completed: 1000,
  errors: {},
  seconds: 8,
  perSecond: 125,
  latency: summarize([latencyMs]),
  cpuMsPerRun,
});
const find = (results: BenchResults, start: string) => evaluateTargets(results).find((row) => row.figure.startsWith(start));

describe("the targets table", () => {
  it("judges RSS after load on the reading after a full GC, and shows the one before it", () => {
    const results = { ...base(), idleRss: { "fake-upstream": 50 * MB, gateway: 80 * MB, platform: 200 * MB }, loadedRss: { "fake-upstream": 50 * MB, gateway: 200 * MB, platform: 210 * MB }, loadedRssAfterGc: { gateway: 90 * MB, platform: 205 * MB } };
    const gateway = find(results, "RSS after the throughput load and a full GC, gateway");
    expect(gateway).toMatchObject({ measured: "90 MB (before the GC 200 MB)", ratio: "×1.13", status: "met" });
  });

  it("falls back to the plain reading for a run without the GC (an older results file)", () => {
    const results = { ...base(), idleRss: { "fake-upstream": 50 * MB, gateway: 80 * MB, platform: 200 * MB }, loadedRss: { "fake-upstream": 50 * MB, gateway: 200 * MB, platform: 210 * MB } };
    expect(find(results, "RSS after the throughput load, gateway")).toMatchObject({ ratio: "×2.50", status: "missed" });
  });

  it("lists CPU seconds per 1,000 runs for each service as a sizing figure", () => {
    const results = {
      ...base(),
      throughput: [
        throughput("direct", 10, { "fake-upstream": 0.2 }),
        throughput("gateway", 10, { gateway: 2.5, "fake-upstream": 0.3 }),
        throughput("platform", 10, { gateway: 2.6, platform: 4.1, "fake-upstream": 0.3 }),
      ],
    };
    expect(find(results, "CPU seconds per 1,000 runs, c=10, sent to the gateway")).toMatchObject({ measured: "gateway 2.50 s", status: "figure" });
    expect(find(results, "CPU seconds per 1,000 runs, c=10, sent to the platform")).toMatchObject({ measured: "platform 4.10 s, gateway 2.60 s", status: "figure" });
    expect(statusText("figure")).toBe("–");
  });

  it("holds the platform's median at c=100 to 100 ms", () => {
    const row = (ms: number) => ({ ...base(), throughput: [throughput("direct", 100, {}, 10), throughput("platform", 100, {}, ms)] });
    expect(find(row(99), "latency through platform + gateway at c=100")?.status).toBe("met");
    expect(find(row(282), "latency through platform + gateway at c=100")?.status).toBe("missed");
  });

  it("has a row for the noisy neighbour (fairness) and for the tenants phase even when they did not run", () => {
    expect(find(base(), "tenant B's TTFT")).toMatchObject({ status: "not run", target: "≤ ×1.5 of idle" });
    expect(find(base(), "platform→gateway connections")).toMatchObject({ status: "not run", target: "≤ 16 at 10,000 tenants" });
  });
});
