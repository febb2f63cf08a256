import { describe, expect, it } from "vitest";
import type { BenchResults, TenantsRow } from "./context";
import { parseOptions } from "./options";
import { TENANT_COLUMNS, tenantRows, tenantsSection, tenantTargets } from "./report-tenants";
import { summarize } from "./stats";

function row(tenants: number, ttftMs: number, cpu: { platform: number; gateway: number }, platformToGateway: number, extra: Partial<TenantsRow> = {}): TenantsRow {
  return {
    tenants,
    liveStreams: Math.min(tenants, 9_999),
    failedStreams: {},
    createSeconds: tenants / 100,
    ttft: summarize([ttftMs, ttftMs, ttftMs]),
    total: summarize([ttftMs * 2]),
    errors: 0,
    // The holding cost on top of what the message itself cost.
    cpuMsPerMessage: { platform: cpu.platform + 10, gateway: cpu.gateway + 10 },
    cpuMsPerMessageNet: cpu,
    idleCpuMsPerSecond: { platform: 1, gateway: 1 },
    rss: { platform: 200 * 1048576, gateway: 100 * 1048576 },
    fds: { platform: 100 + 2 * tenants, gateway: 50 + 2 * tenants },
    platformToGateway,
    ...extra,
  };
}

const results = (rows: TenantsRow[]): BenchResults => ({
  startedAt: new Date(0),
  options: parseOptions([]),
  notes: [],
  profiles: [],
  tenants: { samples: 40, rows, limit: "RLIMIT_NOFILE soft 20000, hard 20000" },
});

describe("the tenants table", () => {
  it("gives each tenant count its ratio to the first row", () => {
    const table = tenantRows(results([row(1, 10, { platform: 3, gateway: 1 }, 2), row(100, 12, { platform: 4, gateway: 2 }, 101), row(10_000, 25, { platform: 6, gateway: 2 }, 10_001)]).tenants!);
    const column = (name: string) => table.map((cells) => cells[TENANT_COLUMNS.indexOf(name)]);
    expect(column("tenants")).toEqual(["1", "100", "10,000"]);
    expect(column("TTFT vs 1st row")).toEqual(["baseline", "×1.20", "×2.50"]);
    expect(column("net CPU vs 1st row (platform + gateway)")).toEqual(["baseline", "×1.50", "×2.00"]);
    expect(column("CPU ms per message: platform · gateway")).toEqual(["13.0 · 11.0", "14.0 · 12.0", "16.0 · 12.0"]);
    expect(column("same, net of holding")).toEqual(["3.00 · 1.00", "4.00 · 2.00", "6.00 · 2.00"]);
    expect(column("live streams")).toEqual(["1", "100", "9,999"]);
    expect(column("platform→gateway connections")).toEqual(["2", "101", "10,001"]);
    expect(table.every((cells) => cells.length === TENANT_COLUMNS.length)).toBe(true);
  });

  it("falls back to the gross CPU for a results file without the net figure", () => {
    const old = (tenants: number, platform: number) => {
      const { cpuMsPerMessageNet: _net, ...rest } = row(tenants, 10, { platform, gateway: 0 }, 2);
      return { ...rest, cpuMsPerMessage: { platform, gateway: 0 } };
    };
    const table = tenantRows(results([old(1, 4), old(100, 6)]).tenants!);
    expect(table[1]![TENANT_COLUMNS.indexOf("net CPU vs 1st row (platform + gateway)")]).toBe("×1.50");
  });

  it("says how many streams failed to open and why", () => {
    const table = tenantRows(results([row(1, 10, { platform: 3, gateway: 1 }, 2), row(10_000, 25, { platform: 6, gateway: 2 }, 9_000, { liveStreams: 9_000, failedStreams: { EMFILE: 999 } })]).tenants!);
    expect(table[1]![1]).toBe("9,000 (999 failed to open: EMFILE)");
  });

  it("renders a section only when the phase ran", () => {
    expect(tenantsSection({ ...results([]), tenants: undefined })).toEqual([]);
    const section = tenantsSection(results([row(1, 10, { platform: 3, gateway: 1 }, 2)])).join("\n");
    expect(section).toContain("## Tenants, each with a live stream");
    expect(section).toContain(`| ${TENANT_COLUMNS.join(" | ")} |`);
  });
});

describe("the tenants targets", () => {
  it("meets the connection target only with at most 16 connections to the gateway", () => {
    const many = tenantTargets(results([row(1, 10, { platform: 3, gateway: 1 }, 2), row(10_000, 25, { platform: 6, gateway: 2 }, 10_001)]));
    expect(many[0]).toMatchObject({ figure: "platform→gateway connections, 10,000 tenants with a live stream each", status: "missed", ratio: "×5,001" });
    const pooled = tenantTargets(results([row(1, 10, { platform: 3, gateway: 1 }, 2), row(10_000, 25, { platform: 6, gateway: 2 }, 16)]));
    expect(pooled[0]!.status).toBe("met");
  });

  it("does not call a run that could not open the streams a success", () => {
    const short = tenantTargets(results([row(1, 10, { platform: 3, gateway: 1 }, 2), row(10_000, 25, { platform: 6, gateway: 2 }, 16, { liveStreams: 5_000 })]));
    expect(short[0]!.status).toBe("missed");
  });

  it("states the cost of one more message at the largest count against the smallest", () => {
    const [, cost] = tenantTargets(results([row(1, 10, { platform: 3, gateway: 1 }, 2), row(10_000, 25, { platform: 6, gateway: 2 }, 16)]));
    expect(cost).toMatchObject({ figure: "cost of one more message at 10,000 vs 1 tenant (each with a live stream)", ratio: "×2.50 / ×2.00", status: "figure" });
  });

  it("is 'not run' without the phase", () => {
    expect(tenantTargets(results([])).map((target) => target.status)).toEqual(["not run"]);
  });
});
