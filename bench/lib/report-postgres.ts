/**
 * The platform on its two databases (issue 17): the embedded PGlite that `npm start` runs, and the
 * Postgres server (DATABASE_URL), measured side by side in the latency and throughput phases as the
 * paths "platform" and "platform-postgres". What each costs per message, and the informational
 * rows of the targets table (the targets themselves stay on PGlite).
 */
import type { BenchResults, ThroughputRow } from "./context";
import { fmt, mb, ratio } from "./stats";
import type { TargetRow } from "./targets-table";

export const PGLITE_PATH = "platform (PGlite) + gateway";
export const POSTGRES_PATH = "platform (Postgres server) + gateway";

/** The platform process's CPU per run on the row's own path (the PGlite one's or the server one's). */
export function platformCpuOf(row: ThroughputRow): number | undefined {
  return row.target === "platform-postgres" ? row.cpuMsPerRun["platform-postgres"] : row.target === "platform" ? row.cpuMsPerRun.platform : undefined;
}

/** The database's CPU per run on a platform path: PGlite's process, or the server's backends serving the platform. */
export function databaseCpuOf(row: ThroughputRow): number | undefined {
  return row.target === "platform-postgres" ? row.cpuMsPerRun["postgres server"] : row.target === "platform" ? row.cpuMsPerRun["embedded database"] : undefined;
}

/** "–" for a figure not taken. */
const cell = (value: number | undefined) => (value === undefined ? "–" : fmt(value));

/** Why the Postgres-server path has no figures, as one line for the sections that lack them ([] when it was measured or never tried). */
export function postgresNote(results: BenchResults): string[] {
  const run = results.postgres;
  return run && !run.measured ? [`${POSTGRES_PATH}: ${run.reason}.`, ""] : [];
}

export const COMPARISON_COLUMNS = [
  "C",
  "runs/s: PGlite · server",
  "PGlite: platform · embedded database · both",
  "Postgres server: platform · server backends · both",
  "both: server / PGlite",
];

/** One row per concurrency of the throughput phase: CPU ms per message on each database. */
export function comparisonRows(results: BenchResults): string[][] {
  const rows = results.throughput ?? [];
  const levels = [...new Set(rows.map((row) => row.concurrency))];
  return levels.flatMap((concurrency) => {
    const pglite = rows.find((row) => row.target === "platform" && row.concurrency === concurrency);
    const server = rows.find((row) => row.target === "platform-postgres" && row.concurrency === concurrency);
    if (!pglite && !server) return [];
    const both = (row: ThroughputRow | undefined) => {
      const platform = row && platformCpuOf(row);
      const database = row && databaseCpuOf(row);
      return { platform, database, sum: platform === undefined || database === undefined ? undefined : platform + database };
    };
    const a = both(pglite);
    const b = both(server);
    return [
      [
        String(concurrency),
        `${pglite ? fmt(pglite.perSecond) : "–"} · ${server ? fmt(server.perSecond) : "–"}`,
        `${cell(a.platform)} · ${cell(a.database)} · ${cell(a.sum)}`,
        `${cell(b.platform)} · ${cell(b.database)} · ${cell(b.sum)}`,
        a.sum !== undefined && b.sum !== undefined ? ratio(b.sum, a.sum) : "–",
      ],
    ];
  });
}

/** The side-by-side table with the paragraph that says which is which; [] without a platform row. */
export function comparisonSection(results: BenchResults): string[] {
  const rows = comparisonRows(results);
  if (rows.length === 0) return [];
  const run = results.postgres;
  const server = run?.measured
    ? `a private database created for this run on the Postgres ${run.version} server at ${run.server} (and dropped afterwards)`
    : "a private database on a Postgres server";
  return [
    "### Platform CPU per message: PGlite and the Postgres server",
    "",
    "The same platform build in front of the same gateway and fake upstream, in the same run; only its database differs. " +
      "**PGlite** is what `npm start` runs when `DATABASE_URL` is unset: Postgres compiled to WebAssembly, in a child process of the platform that it talks to over a private Unix socket (decision 050); " +
      "its database CPU is that child process's. " +
      `**Postgres server** is the platform with \`DATABASE_URL\` on ${server}; its database CPU is that of the server's backend processes serving the platform's connections, read from /proc ` +
      "(the server's shared background processes — WAL writer, checkpointer, autovacuum — are not counted, so that figure is a little low). " +
      "CPU milliseconds per message (one message and its streamed reply is one run, so this is also CPU seconds per 1,000 runs), from the throughput phase above; " +
      "the gateway's share, the same work on both, is in the table above.",
    "",
    `| ${COMPARISON_COLUMNS.join(" | ")} |`,
    `|${COMPARISON_COLUMNS.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
    "",
    ...postgresNote(results),
  ];
}

/** Informational rows for the targets table: the PGlite targets' figures, on the Postgres server. */
export function postgresTargets(results: BenchResults): TargetRow[] {
  const informational = "– (informational; the target is on PGlite)";
  const run = results.postgres;
  if (!run?.measured) return [{ figure: POSTGRES_PATH, measured: run?.reason ?? "–", baseline: "–", ratio: "–", target: informational, status: "not run" }];
  const rows: TargetRow[] = [];
  const direct = results.latency?.find((row) => row.target === "direct");
  const latency = results.latency?.find((row) => row.target === "platform-postgres");
  const embedded = results.latency?.find((row) => row.target === "platform");
  if (direct && latency) {
    rows.push({
      figure: "added TTFT, platform (Postgres server) + gateway, median, c=1",
      measured: `+${fmt(latency.ttft.median - direct.ttft.median)} ms (TTFT ${fmt(latency.ttft.median)} ms)`,
      baseline: embedded ? `on PGlite +${fmt(embedded.ttft.median - direct.ttft.median)} ms` : `direct TTFT ${fmt(direct.ttft.median)} ms`,
      ratio: ratio(latency.ttft.median, direct.ttft.median),
      target: informational,
      status: "figure",
    });
  }
  const throughput = (target: string, concurrency: number) => results.throughput?.find((row) => row.target === target && row.concurrency === concurrency);
  const server100 = throughput("platform-postgres", 100);
  const pglite100 = throughput("platform", 100);
  if (server100) {
    rows.push({
      figure: "latency through platform (Postgres server) + gateway at c=100, median",
      measured: `${fmt(server100.latency.median)} ms (p95 ${fmt(server100.latency.p95)} ms)`,
      baseline: pglite100 ? `on PGlite ${fmt(pglite100.latency.median)} ms` : "–",
      ratio: pglite100 ? ratio(server100.latency.median, pglite100.latency.median) : "–",
      target: informational,
      status: "figure",
    });
  }
  const server10 = throughput("platform-postgres", 10);
  if (server10) {
    rows.push({
      figure: "CPU seconds per 1,000 runs, c=10, sent to the platform on the Postgres server",
      measured: `platform ${cell(platformCpuOf(server10))} s, server backends ${cell(databaseCpuOf(server10))} s, gateway ${cell(server10.cpuMsPerRun.gateway)} s`,
      baseline: `fake upstream ${cell(server10.cpuMsPerRun["fake-upstream"])} s`,
      ratio: "–",
      target: "– (sizing figure)",
      status: "figure",
    });
  }
  const idle = results.idleRss?.["platform-postgres"];
  if (idle !== undefined) {
    const collected = results.loadedRssAfterGc?.["platform-postgres"];
    const after = collected ?? results.loadedRss?.["platform-postgres"];
    rows.push({
      figure: "idle RSS, platform on the Postgres server (the server's own memory not counted)",
      measured: `${fmt(mb(idle), 0)} MB${after === undefined ? "" : `; after load${collected === undefined ? "" : " and a GC"} ${fmt(mb(after), 0)} MB (${ratio(after, idle)})`}`,
      baseline: results.idleRss?.platform === undefined ? "–" : `on PGlite ${fmt(mb(results.idleRss.platform), 0)} MB`,
      ratio: "–",
      target: informational,
      status: "figure",
    });
  }
  return rows;
}
