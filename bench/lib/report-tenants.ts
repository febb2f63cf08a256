/** The tenants section of docs/benchmarks.md and its target rows (issue 17). */
import type { BenchResults, TenantsResult, TenantsRow } from "./context";
import { fmt, mb, ratio, type Summary } from "./stats";
import type { TargetRow } from "./targets-table";

/** Platform→gateway connections allowed with 10,000 tenants holding a stream each (issue 17). */
export const PLATFORM_GATEWAY_CONNECTIONS_LIMIT = 16;
/** The tenant count the connection target is stated for. */
export const CONNECTIONS_TARGET_TENANTS = 10_000;

/** CPU per message less the holding cost (a results file from before that figure: the gross one). */
const netOf = (row: TenantsRow) => row.cpuMsPerMessageNet ?? row.cpuMsPerMessage;
const ms = (summary: Summary) => `${fmt(summary.median)} / ${fmt(summary.p95)}`;
const count = (value: number) => value.toLocaleString("en-US");
const pair = (values: { platform: number; gateway: number }, format: (value: number) => string) => `${format(values.platform)} · ${format(values.gateway)}`;

export const TENANT_COLUMNS = [
  "tenants",
  "live streams",
  "TTFT median / p95 (ms)",
  "TTFT vs 1st row",
  "total median / p95 (ms)",
  "CPU ms per message: platform · gateway",
  "same, net of holding",
  "net CPU vs 1st row (platform + gateway)",
  "CPU ms/s holding the streams: platform · gateway",
  "RSS MB: platform · gateway",
  "fds: platform · gateway",
  "platform→gateway connections",
  "errors",
];

/** One table row per tenant count; ratios are to the first (smallest) count of the same run. */
export function tenantRows(result: TenantsResult): string[][] {
  const first = result.rows[0];
  const cpu = (row: TenantsRow) => netOf(row).platform + netOf(row).gateway;
  return result.rows.map((row) => {
    const failed = Object.values(row.failedStreams).reduce((sum, n) => sum + n, 0);
    return [
      count(row.tenants),
      `${count(row.liveStreams)}${failed ? ` (${count(failed)} failed to open: ${Object.keys(row.failedStreams).join(", ")})` : ""}`,
      ms(row.ttft),
      !first || row === first ? "baseline" : ratio(row.ttft.median, first.ttft.median),
      ms(row.total),
      pair(row.cpuMsPerMessage, (value) => fmt(value)),
      pair(netOf(row), (value) => fmt(value)),
      !first || row === first ? "baseline" : ratio(cpu(row), cpu(first)),
      pair(row.idleCpuMsPerSecond, (value) => fmt(value)),
      pair(row.rss, (value) => fmt(mb(value), 0)),
      pair(row.fds, count),
      count(row.platformToGateway),
      String(row.errors),
    ];
  });
}

export function tenantsSection(results: BenchResults): string[] {
  const t = results.tenants;
  if (!t) return [];
  return [
    "## Tenants, each with a live stream (issue 17)",
    "",
    "One platform and one gateway. For each tenant count N the tenants are organisations created through the platform's API (`POST /api/tenants` by one account, then `POST /api/agents` in each; " +
      "the time is in the notes below), and each holds one live SSE stream through the platform: a chat run whose reply sends one token and then stalls, so its run stays active in the gateway " +
      "(the gateway's WORKFORCE_MAX_CONCURRENT_RUNS at its maximum, 10,000, one run kept free for the measured message). With the streams open, the bench measures what holding them costs " +
      `(CPU per second with no message in flight, over one 20 s lease-renewal period; quick runs: a few seconds) and then sends ${t.samples} messages one at a time, each from the next tenant in turn and in a new session (${results.options.tokens} tokens, ${results.options.tokenDelayMs} ms apart). ` +
      "CPU per message is everything the process did during those messages, the streams' upkeep included; net of holding subtracts the holding rate over the same time. Connections are established TCP connections from the platform to the gateway's port (/proc).",
    "",
    `| ${TENANT_COLUMNS.join(" | ")} |`,
    `|${TENANT_COLUMNS.map(() => "---").join("|")}|`,
    ...tenantRows(t).map((row) => `| ${row.join(" | ")} |`),
    "",
    `Creating the tenants: ${t.rows.map((row) => `${fmt(row.createSeconds, 1)} s up to ${count(row.tenants)}`).join(", ")}. ` +
      `Waited for the processes' CPU to stop falling before measuring the holding cost (the backlog the creation left, such as pushing each new organisation's policy to the gateway): ${t.rows.map((row) => `${fmt(row.settleSeconds ?? 0, 0)} s at ${count(row.tenants)}`).join(", ")}. Descriptor limit of every process: ${t.limit}.`,
    "",
  ];
}

/** The target rows of the tenants phase: connections at the largest count, and what a message costs there. */
export function tenantTargets(results: BenchResults): TargetRow[] {
  const rows = results.tenants?.rows ?? [];
  const first = rows[0];
  const last = rows.at(-1);
  const target = `≤ ${PLATFORM_GATEWAY_CONNECTIONS_LIMIT} at ${count(CONNECTIONS_TARGET_TENANTS)} tenants`;
  if (!first || !last) {
    return [{ figure: "platform→gateway connections, a live stream per tenant", measured: "–", baseline: "–", ratio: "–", target, status: "not run" }];
  }
  const connections: TargetRow = {
    figure: `platform→gateway connections, ${count(last.tenants)} tenants with a live stream each`,
    measured: `${count(last.platformToGateway)} connections (${count(last.liveStreams)} live streams)`,
    baseline: `${count(first.platformToGateway)} at ${count(first.tenants)} tenant${first.tenants === 1 ? "" : "s"}`,
    ratio: ratio(last.platformToGateway, first.platformToGateway),
    target,
    status: last.platformToGateway <= PLATFORM_GATEWAY_CONNECTIONS_LIMIT && last.liveStreams >= last.tenants - 1 ? "met" : "missed",
  };
  if (last === first) return [connections];
  const cpu = (row: TenantsRow) => netOf(row).platform + netOf(row).gateway;
  return [
    connections,
    {
      figure: `cost of one more message at ${count(last.tenants)} vs ${count(first.tenants)} tenant${first.tenants === 1 ? "" : "s"} (each with a live stream)`,
      measured: `TTFT ${fmt(last.ttft.median)} ms, CPU ${fmt(cpu(last))} ms (platform + gateway, net of holding the streams)`,
      baseline: `TTFT ${fmt(first.ttft.median)} ms, CPU ${fmt(cpu(first))} ms`,
      ratio: `${ratio(last.ttft.median, first.ttft.median)} / ${ratio(cpu(last), cpu(first))}`,
      target: "– (figure)",
      status: "figure",
    },
  ];
}
