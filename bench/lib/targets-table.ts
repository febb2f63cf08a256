/**
 * The targets of issues 6, 11 and 17, evaluated against this run's figures: one row per target,
 * "met" or "missed" ("figure" for a sizing figure the issues ask for without a bound).
 */
import type { BenchResults } from "./context";
import { FAIRNESS_TTFT_LIMIT } from "./report-fairness";
import { postgresTargets } from "./report-postgres";
import { tenantTargets } from "./report-tenants";
import { fmt, mb, ratio } from "./stats";

export interface TargetRow {
  figure: string;
  measured: string;
  baseline: string;
  ratio: string;
  target: string;
  status: "met" | "missed" | "not run" | "figure";
}

/** The status as the docs' table shows it. */
export function statusText(status: TargetRow["status"]): string {
  return status === "met" ? "**met**" : status === "missed" ? "**missed**" : status === "figure" ? "–" : "not run";
}

/** Platform + gateway p50 at c=100 (issue 17). */
const PLATFORM_C100_P50_MS = 100;
/** All-in-one cold start, `npm start` to healthy (issue 17; issue 6 had 3 s). */
const ALL_IN_ONE_COLD_START_MS = 2_000;

export function evaluateTargets(results: BenchResults): TargetRow[] {
  const rows: TargetRow[] = [];
  const latency = (name: string) => results.latency?.find((row) => row.target === name);
  const direct = latency("direct");
  for (const [name, limit, label] of [
    ["gateway", 2, "added TTFT, gateway, median, c=1"],
    ["platform", 5, "added TTFT, platform + gateway, median, c=1"],
  ] as const) {
    const row = latency(name);
    if (!row || !direct) {
      rows.push({ figure: label, measured: "–", baseline: "–", ratio: "–", target: `≤ ${limit} ms`, status: "not run" });
      continue;
    }
    const added = row.ttft.median - direct.ttft.median;
    rows.push({
      figure: label,
      measured: `+${fmt(added)} ms (TTFT ${fmt(row.ttft.median)} ms)`,
      baseline: `direct TTFT ${fmt(direct.ttft.median)} ms`,
      ratio: ratio(row.ttft.median, direct.ttft.median),
      target: `≤ ${limit} ms added`,
      status: added <= limit ? "met" : "missed",
    });
  }

  const throughput = (target: string, concurrency: number) => results.throughput?.find((row) => row.target === target && row.concurrency === concurrency);
  const gateway10 = throughput("gateway", 10);
  const direct10 = throughput("direct", 10);
  if (gateway10 && direct10) {
    const persisted = gateway10.persisted ? gateway10.persisted.found >= gateway10.persisted.expected : false;
    const errors = Object.values(gateway10.errors).reduce((sum, count) => sum + count, 0);
    rows.push({
      figure: "throughput through the gateway, c=10, transcripts persisted",
      measured: `${fmt(gateway10.perSecond)} runs/s (${errors} errors; ${persisted ? "all persisted" : "NOT all persisted"})`,
      baseline: `fake upstream direct ${fmt(direct10.perSecond)} runs/s`,
      ratio: ratio(gateway10.perSecond, direct10.perSecond),
      target: "≥ 500 runs/s and ≥ 1/15 of direct",
      status: gateway10.perSecond >= 500 && gateway10.perSecond >= direct10.perSecond / 15 && persisted && errors === 0 ? "met" : "missed",
    });
  } else rows.push({ figure: "throughput through the gateway, c=10", measured: "–", baseline: "–", ratio: "–", target: "≥ 500 runs/s", status: "not run" });

  const platform100 = throughput("platform", 100);
  const direct100 = throughput("direct", 100);
  rows.push(
    platform100
      ? {
          figure: "latency through platform + gateway at c=100, median",
          // 100 users sending back to back are a closed loop: the mean is 100 ÷ throughput (Little's
          // law), so the median can only fall as far as throughput rises.
          measured: `${fmt(platform100.latency.median)} ms (p95 ${fmt(platform100.latency.p95)} ms; at ${fmt(platform100.perSecond)} runs/s 100 users wait ${fmt(100_000 / platform100.perSecond)} ms on average)`,
          baseline: direct100 ? `fake upstream direct ${fmt(direct100.latency.median)} ms` : "–",
          ratio: direct100 ? ratio(platform100.latency.median, direct100.latency.median) : "–",
          target: `≤ ${PLATFORM_C100_P50_MS} ms`,
          status: platform100.latency.median <= PLATFORM_C100_P50_MS ? "met" : "missed",
        }
      : { figure: "latency through platform + gateway at c=100, median", measured: "–", baseline: "–", ratio: "–", target: `≤ ${PLATFORM_C100_P50_MS} ms`, status: "not run" },
  );
  // What a machine is sized by: CPU seconds each service spends per 1,000 completed runs (c=10).
  for (const target of ["gateway", "platform"] as const) {
    const row = throughput(target, 10);
    if (!row) continue;
    const services = target === "gateway" ? (["gateway"] as const) : (["platform", "gateway", "embedded database"] as const);
    rows.push({
      figure: `CPU seconds per 1,000 runs, c=10, sent to the ${target === "gateway" ? "gateway" : "platform"}`,
      // The embedded database (PGlite's process) only in runs that read it.
      measured: services
        .filter((service) => service !== "embedded database" || row.cpuMsPerRun[service] !== undefined)
        .map((service) => `${service} ${fmt(row.cpuMsPerRun[service] ?? Number.NaN)} s`)
        .join(", "),
      baseline: `fake upstream ${fmt(row.cpuMsPerRun["fake-upstream"] ?? Number.NaN)} s`,
      ratio: "–",
      target: "– (sizing figure)",
      status: "figure",
    });
  }

  rows.push(...postgresTargets(results));

  const fairness = results.fairness;
  rows.push(
    fairness
      ? {
          figure: `tenant B's TTFT (median) while tenant A floods ${fairness.flood} runs`,
          measured: `${fmt(fairness.loaded.median)} ms (${fairness.loaded.n} messages)`,
          baseline: `B on the idle gateway ${fmt(fairness.idle.median)} ms`,
          ratio: ratio(fairness.loaded.median, fairness.idle.median),
          target: `≤ ×${FAIRNESS_TTFT_LIMIT} of idle`,
          status: fairness.loaded.n > 0 && fairness.loaded.median <= fairness.idle.median * FAIRNESS_TTFT_LIMIT ? "met" : "missed",
        }
      : { figure: "tenant B's TTFT under tenant A's flood", measured: "–", baseline: "–", ratio: "–", target: `≤ ×${FAIRNESS_TTFT_LIMIT} of idle`, status: "not run" },
  );

  rows.push(...tenantTargets(results));

  const streams = results.streams;
  rows.push(
    streams
      ? {
          figure: "concurrent open SSE streams, one platform process",
          measured: `${streams.opened.toLocaleString("en-US")} open; per stream ${fmt((streams.platform.rssOpen - streams.platform.rssBefore) / Math.max(1, streams.opened) / 1024, 1)} KB RSS, ${fmt((streams.platform.heapOpen - streams.platform.heapBefore) / Math.max(1, streams.opened) / 1024, 1)} KB heap`,
          baseline: `platform RSS before ${fmt(mb(streams.platform.rssBefore), 0)} MB`,
          ratio: "–",
          target: "≥ 10,000",
          status: streams.opened >= 10_000 ? "met" : "missed",
        }
      : { figure: "concurrent open SSE streams", measured: "–", baseline: "–", ratio: "–", target: "≥ 10,000", status: "not run" },
  );

  const sessions = results.sessions;
  const first = sessions?.[0];
  const last = sessions?.at(-1);
  if (first && last && last !== first) {
    const factor = last.existing.median / first.existing.median;
    rows.push({
      figure: `session-add cost at ${last.sessions.toLocaleString("en-US")} vs ${first.sessions} sessions (median)`,
      measured: `${fmt(last.existing.median)} ms`,
      baseline: `${fmt(first.existing.median)} ms at ${first.sessions} sessions`,
      ratio: ratio(last.existing.median, first.existing.median),
      target: "≤ ×2",
      status: factor <= 2 ? "met" : "missed",
    });
  } else rows.push({ figure: "session-add cost scaling", measured: "–", baseline: "–", ratio: "–", target: "≤ ×2", status: "not run" });

  const database = results.idleRss?.["embedded database"];
  if (database !== undefined) {
    rows.push({ figure: "idle RSS, embedded database (the platform's child process)", measured: `${fmt(mb(database), 0)} MB`, baseline: "–", ratio: "–", target: "reported apart", status: "met" });
  }
  for (const service of ["gateway", "platform"] as const) {
    const idle = results.idleRss?.[service];
    rows.push(
      idle !== undefined
        ? { figure: `idle RSS, ${service}`, measured: `${fmt(mb(idle), 0)} MB`, baseline: "–", ratio: "–", target: "< 100 MB", status: mb(idle) < 100 ? "met" : "missed" }
        : { figure: `idle RSS, ${service}`, measured: "–", baseline: "–", ratio: "–", target: "< 100 MB", status: "not run" },
    );
    rows.push(rssAfterLoad(service, results));
  }

  const cold = results.coldStart;
  if (cold) {
    rows.push({
      figure: "cold start to healthy, gateway alone (median)",
      measured: `${fmt(cold.gateway.median, 0)} ms`,
      baseline: "–",
      ratio: "–",
      target: "≤ 1,000 ms",
      status: cold.gateway.median <= 1000 ? "met" : "missed",
    });
    rows.push({
      figure: "cold start to healthy, all-in-one (`npm start` launcher, median)",
      measured: `${fmt(cold.launcher.median, 0)} ms`,
      baseline: `gateway alone ${fmt(cold.gateway.median, 0)} ms`,
      ratio: ratio(cold.launcher.median, cold.gateway.median),
      target: `≤ ${fmt(ALL_IN_ONE_COLD_START_MS, 0)} ms`,
      status: cold.launcher.median <= ALL_IN_ONE_COLD_START_MS ? "met" : "missed",
    });
  } else rows.push({ figure: "cold start", measured: "–", baseline: "–", ratio: "–", target: "≤ 1 s / 2 s", status: "not run" });

  const soak = results.soak;
  if (soak) {
    const errors = Object.values(soak.errors).reduce((sum, count) => sum + count, 0);
    const growth = (["gateway", "platform"] as const).map((service) => soak.rssEnd[service] / soak.rssWarm[service]);
    const leaks = leakReport(results);
    rows.push({
      figure: `soak: ${soak.users} users × ${fmt(soak.seconds, 0)} s through the platform`,
      measured: `${soak.runs.toLocaleString("en-US")} runs, ${errors} errors; RSS end/warm gateway ${ratio(soak.rssEnd.gateway, soak.rssWarm.gateway)}, platform ${ratio(soak.rssEnd.platform, soak.rssWarm.platform)}; ${leaks || "no leaked handles"}`,
      baseline: "RSS after warm-up",
      ratio: growth.map((value) => `×${fmt(value, 2)}`).join(" / "),
      target: "0 errors, RSS end ≤ ×1.1 of warm, no leaks",
      // Growth is what a leak looks like; the platform's RSS may drop when PGlite returns start-up memory.
      status: errors === 0 && growth.every((value) => value <= 1.1) && !leaks ? "met" : "missed",
    });
  }
  return rows;
}

/** RSS after the throughput load against idle: after a full GC when the run took that reading (issue 17), else as it was. */
function rssAfterLoad(service: "gateway" | "platform", results: BenchResults): TargetRow {
  const idle = results.idleRss?.[service];
  const loaded = results.loadedRss?.[service];
  const collected = results.loadedRssAfterGc?.[service];
  if (idle === undefined || loaded === undefined) return { figure: `RSS after load, ${service}`, measured: "–", baseline: "–", ratio: "–", target: "≤ ×1.2", status: "not run" };
  const after = collected ?? loaded;
  return {
    figure: collected === undefined ? `RSS after the throughput load, ${service}` : `RSS after the throughput load and a full GC, ${service}`,
    measured: collected === undefined ? `${fmt(mb(loaded), 0)} MB` : `${fmt(mb(collected), 0)} MB (before the GC ${fmt(mb(loaded), 0)} MB)`,
    baseline: `idle ${fmt(mb(idle), 0)} MB`,
    ratio: ratio(after, idle),
    target: "≤ ×1.2 of idle",
    status: after <= idle * 1.2 ? "met" : "missed",
  };
}

/** Descriptor, socket or timer growth between the soak's two quiescent snapshots ("" when none). */
export function leakReport(results: BenchResults): string {
  const soak = results.soak;
  if (!soak) return "";
  const problems: string[] = [];
  for (const service of ["gateway", "platform"] as const) {
    const before = soak.before[service];
    const after = soak.after[service];
    // The database's relation files (PGlite) are opened as its tables grow: not a leak.
    const fds = (snapshot: typeof before) => snapshot.fds - (snapshot.databaseFiles ?? 0);
    if (fds(after) > fds(before) + 2) problems.push(`${service} fds ${fds(before)}→${fds(after)} (besides database files)`);
    const timers = (snapshot: typeof before) => (snapshot.resources.Timeout ?? 0) + (snapshot.resources.Immediate ?? 0);
    if (timers(after) > timers(before) + 2) problems.push(`${service} timers ${timers(before)}→${timers(after)}`);
  }
  return problems.join(", ");
}
