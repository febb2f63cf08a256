import { describe, expect, it } from "vitest";
import type { BenchResults, LatencyRow, ThroughputRow } from "./context";
import type { MachineInfo } from "./machine";
import { parseOptions } from "./options";
import { writeReport } from "./report";
import { COMPARISON_COLUMNS, comparisonRows, comparisonSection, postgresTargets } from "./report-postgres";
import { summarize } from "./stats";
import { evaluateTargets } from "./targets-table";

const MB = 1048576;
const base = (): BenchResults => ({ startedAt: new Date(0), options: { ...parseOptions([], {}), write: false }, notes: [], profiles: [] });
const server = { measured: true as const, server: "127.0.0.1:5432", version: "15.20" };
const latency = (target: LatencyRow["target"], ttftMs: number): LatencyRow => ({ target, ttft: summarize([ttftMs]), total: summarize([ttftMs * 3]), errors: 0 });
const throughput = (target: ThroughputRow["target"], concurrency: number, perSecond: number, cpuMsPerRun: ThroughputRow["cpuMsPerRun"], latencyMs = 50): ThroughputRow => ({
  target,
  concurrency,
  completed: perSecond * 8,
  errors: {},
  seconds: 8,
  perSecond,
  latency: summarize([latencyMs]),
  cpuMsPerRun,
  persisted: { expected: perSecond * 16, found: perSecond * 16 },
});

/** A run that measured both databases at c=10: PGlite's platform 2 ms + its process 3 ms, the server's platform 1.5 ms + backends 1 ms. */
const both = (): BenchResults => ({
  ...base(),
  postgres: server,
  latency: [latency("direct", 7), latency("hono-hop", 8), latency("gateway", 14), latency("platform", 18), latency("platform-postgres", 16)],
  throughput: [
    throughput("direct", 10, 10_000, { "fake-upstream": 0.2 }),
    throughput("gateway", 10, 400, { gateway: 2.5, platform: 0.01, "platform-postgres": 0.01, "embedded database": 0.02, "postgres server": 0.03 }),
    throughput("platform", 10, 250, { gateway: 2.6, platform: 2, "platform-postgres": 0.02, "embedded database": 3, "postgres server": 0.05 }, 40),
    throughput("platform-postgres", 10, 320, { gateway: 2.6, platform: 0.04, "platform-postgres": 1.5, "embedded database": 0.01, "postgres server": 1 }, 30),
  ],
  idleRss: { gateway: 80 * MB, platform: 150 * MB, "embedded database": 120 * MB, "platform-postgres": 90 * MB },
  loadedRss: { gateway: 120 * MB, platform: 170 * MB, "platform-postgres": 110 * MB },
  loadedRssAfterGc: { gateway: 90 * MB, platform: 160 * MB, "platform-postgres": 99 * MB },
});

const machine: MachineInfo = { cpu: "test cpu", cores: 2, memoryGb: 8, node: "v20", os: "linux", commit: "abc1234", dirty: 0, disk: "ext4", loadAverage: 0.5, loadAverageEnd: 0.5 };

/** The rows of the markdown table whose first cell is `first`. */
const rowsStartingWith = (markdown: string, first: string) => markdown.split("\n").filter((line) => line.startsWith(`| ${first} |`));

describe("the platform on PGlite and on the Postgres server, side by side", () => {
  it("gives each database's platform and database CPU per message, their sum, and the server's ratio to PGlite", () => {
    const [row] = comparisonRows(both());
    const column = (name: string) => row![COMPARISON_COLUMNS.indexOf(name)];
    expect(column("C")).toBe("10");
    expect(column("runs/s: PGlite · server")).toBe("250 · 320");
    expect(column("PGlite: platform · embedded database · both")).toBe("2.00 · 3.00 · 5.00");
    expect(column("Postgres server: platform · server backends · both")).toBe("1.50 · 1.00 · 2.50");
    expect(column("both: server / PGlite")).toBe("×0.50");
  });

  it("says which is which: PGlite in the platform's child process, the server's backends on a private database", () => {
    const section = comparisonSection(both()).join("\n");
    expect(section).toContain("**PGlite** is what `npm start` runs when `DATABASE_URL` is unset");
    expect(section).toContain("**Postgres server** is the platform with `DATABASE_URL` on a private database created for this run on the Postgres 15.20 server at 127.0.0.1:5432");
    expect(section).not.toContain("not measured");
  });

  it("shows the PGlite figures and says why the server's are missing when no server answered", () => {
    const { throughput: rows = [], ...rest } = both();
    const results: BenchResults = { ...rest, postgres: { measured: false, reason: "not measured: no Postgres server at 127.0.0.1:5432 (ECONNREFUSED)" }, throughput: rows.filter((row) => row.target !== "platform-postgres") };
    const [row] = comparisonRows(results);
    expect(row).toEqual(["10", "250 · –", "2.00 · 3.00 · 5.00", "– · – · –", "–"]);
    expect(comparisonSection(results)).toContain("platform (Postgres server) + gateway: not measured: no Postgres server at 127.0.0.1:5432 (ECONNREFUSED).");
  });

  it("leaves the section out of a run without a platform path", () => {
    expect(comparisonSection({ ...base(), throughput: [throughput("direct", 10, 10_000, {})] })).toEqual([]);
  });
});

describe("the report's tables with the fifth path", () => {
  it("lists the Postgres-server path in the latency, throughput and memory tables, each with its own platform's and database's CPU", async () => {
    const { markdown } = await writeReport(both(), machine, "npm run bench");
    const latencyRow = rowsStartingWith(markdown, "platform (Postgres server) + gateway").find((line) => line.includes("+9.00"));
    expect(latencyRow).toBe("| platform (Postgres server) + gateway | 16.0 / 16.0 | +9.00 | 48.0 / 48.0 | +27.0 | ×2.29 / ×2.29 | 0 |");
    const throughputRows = markdown.split("\n").filter((line) => line.includes("| 10 |"));
    // gateway · platform · database · fake · Hono hop · client: the row's own platform and database.
    expect(throughputRows.find((line) => line.startsWith("| platform (PGlite) + gateway |"))).toContain("| 2.60 · 2.00 · 3.00 · – · – · – |");
    expect(throughputRows.find((line) => line.startsWith("| platform (Postgres server) + gateway |"))).toContain("| 2.60 · 1.50 · 1.00 · – · – · – |");
    expect(throughputRows.find((line) => line.startsWith("| gateway |"))).toContain("| 2.50 · – · – · – · – · – |");
    expect(rowsStartingWith(markdown, "platform-postgres")[0]).toContain("| 90 MB | 110 MB | 99 MB | ×1.10 |");
    expect(markdown).toContain("### Platform CPU per message: PGlite and the Postgres server");
  });
});

describe("the targets table's informational rows for the Postgres server", () => {
  it("adds the server's figures beside the PGlite targets, without judging them", () => {
    const rows = postgresTargets(both());
    expect(rows.map((row) => [row.figure, row.measured, row.baseline, row.status])).toEqual([
      ["added TTFT, platform (Postgres server) + gateway, median, c=1", "+9.00 ms (TTFT 16.0 ms)", "on PGlite +11.0 ms", "figure"],
      ["CPU seconds per 1,000 runs, c=10, sent to the platform on the Postgres server", "platform 1.50 s, server backends 1.00 s, gateway 2.60 s", "fake upstream – s", "figure"],
      ["idle RSS, platform on the Postgres server (the server's own memory not counted)", "90 MB; after load and a GC 99 MB (×1.10)", "on PGlite 150 MB", "figure"],
    ]);
    const at100 = postgresTargets({ ...both(), throughput: [throughput("platform", 100, 300, {}, 280), throughput("platform-postgres", 100, 400, {}, 140)] });
    expect(at100.find((row) => row.figure === "latency through platform (Postgres server) + gateway at c=100, median")).toMatchObject({
      measured: "140 ms (p95 140 ms)",
      baseline: "on PGlite 280 ms",
      ratio: "×0.50",
      status: "figure",
    });
  });

  it("keeps the PGlite targets' rows as they were, and counts PGlite's own process in its CPU row", () => {
    const targets = evaluateTargets(both());
    expect(targets.find((row) => row.figure === "added TTFT, platform + gateway, median, c=1")).toMatchObject({ measured: "+11.0 ms (TTFT 18.0 ms)", status: "missed" });
    expect(targets.find((row) => row.figure === "CPU seconds per 1,000 runs, c=10, sent to the platform")?.measured).toBe("platform 2.00 s, gateway 2.60 s, embedded database 3.00 s");
    expect(targets.find((row) => row.figure === "idle RSS, platform")).toMatchObject({ measured: "150 MB", status: "missed" });
  });

  it("has one 'not run' row saying why when no server answered", () => {
    const reason = "not measured: no Postgres server at 127.0.0.1:5432 (ECONNREFUSED)";
    expect(postgresTargets({ ...base(), postgres: { measured: false, reason } })).toEqual([
      { figure: "platform (Postgres server) + gateway", measured: reason, baseline: "–", ratio: "–", target: "– (informational; the target is on PGlite)", status: "not run" },
    ]);
    expect(evaluateTargets({ ...base(), postgres: { measured: false, reason } }).find((row) => row.figure === "platform (Postgres server) + gateway")?.measured).toBe(reason);
  });
});
