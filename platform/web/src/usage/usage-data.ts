import type { UsageDisk } from "@workforce/protocol";
import type { ApiClient } from "../api/client";
import type { AgentUsage, DayUsage, UsageReport, UsageTotals } from "../api/platform-schemas";

const DAY_MS = 86_400_000;

export interface Tokens {
  runs: number;
  inputTokens: number;
  outputTokens: number;
  /** Undefined when the platform does not report cost. */
  costUsd: number | undefined;
}

/** One bar of the chart: a day, with the usage of each agent in it. */
export interface UsageBucket {
  /** The instant the period ends (exclusive), or the calendar day's midnight UTC. */
  end: Date;
  /** Short label for the axis, e.g. "28 Nov". */
  label: string;
  /** Longer label for tables and tooltips. */
  title: string;
  byAgent: Map<string, Tokens>;
  total: Tokens;
}

export interface UsageSeries {
  days: number;
  /** Oldest first. */
  buckets: UsageBucket[];
  /** Agent slugs, most tokens first. */
  agents: string[];
  totals: UsageTotals;
  byAgent: AgentUsage[];
  /** True when the platform reported calendar days; false when periods are 24 h counted back from now. */
  calendarDays: boolean;
  hasCost: boolean;
  /** The organisation's files on the gateway against its quota; undefined from an older platform. */
  disk?: UsageDisk | undefined;
}

export const totalTokens = (tokens: { inputTokens: number; outputTokens: number }) => tokens.inputTokens + tokens.outputTokens;

const zero = (): Tokens => ({ runs: 0, inputTokens: 0, outputTokens: 0, costUsd: undefined });

function add(into: Tokens, row: { runs: number; inputTokens: number; outputTokens: number; costUsd?: number | null | undefined }, sign = 1): void {
  into.runs += sign * row.runs;
  into.inputTokens += sign * row.inputTokens;
  into.outputTokens += sign * row.outputTokens;
  if (typeof row.costUsd === "number") into.costUsd = (into.costUsd ?? 0) + sign * row.costUsd;
}

function clamp(tokens: Tokens): Tokens {
  // Each report's window ends "now" on the server, a few ms apart: a run at the edge may be counted twice.
  return {
    runs: Math.max(0, tokens.runs),
    inputTokens: Math.max(0, tokens.inputTokens),
    outputTokens: Math.max(0, tokens.outputTokens),
    costUsd: tokens.costUsd === undefined ? undefined : Math.max(0, tokens.costUsd),
  };
}

const shortDate = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const longDate = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const shortUtcDate = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
const longUtcDate = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });

function bucket(end: Date, label: string, title: string, byAgent: Map<string, Tokens>): UsageBucket {
  const total = zero();
  for (const tokens of byAgent.values()) add(total, tokens);
  return { end, label, title, byAgent, total };
}

function agentsByTokens(byAgent: AgentUsage[]): string[] {
  return [...byAgent].sort((a, b) => totalTokens(b) - totalTokens(a) || a.agent.localeCompare(b.agent)).map((row) => row.agent);
}

function hasCost(report: UsageReport): boolean {
  return typeof report.totals.costUsd === "number" || report.byAgent.some((row) => typeof row.costUsd === "number");
}

/**
 * Per-day buckets from reports of growing windows: `cumulative[i]` covers the last `i + 1` days,
 * so day `i` (counted back from now) is `cumulative[i] - cumulative[i - 1]`, per agent.
 */
export function bucketsFromWindows(cumulative: UsageReport[], now: Date): UsageBucket[] {
  const buckets: UsageBucket[] = [];
  for (let index = 0; index < cumulative.length; index++) {
    const window = cumulative[index];
    if (!window) continue;
    const previous = index > 0 ? cumulative[index - 1] : undefined;
    const byAgent = new Map<string, Tokens>();
    for (const row of window.byAgent) {
      const tokens = zero();
      add(tokens, row);
      const before = previous?.byAgent.find((other) => other.agent === row.agent);
      if (before) add(tokens, before, -1);
      const clamped = clamp(tokens);
      if (clamped.runs > 0 || totalTokens(clamped) > 0) byAgent.set(row.agent, clamped);
    }
    const end = new Date(now.getTime() - index * DAY_MS);
    const last = new Date(end.getTime() - 1);
    const title = index === 0 ? "Last 24 hours" : `24 hours to ${longDate.format(last)} ${end.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })}`;
    buckets.push(bucket(end, shortDate.format(last), title, byAgent));
  }
  return buckets.reverse();
}

/** Calendar-day buckets (UTC) from a report that has `byDay`, with empty days filled in. */
export function bucketsFromDays(byDay: DayUsage[], days: number, now: Date): UsageBucket[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const buckets: UsageBucket[] = [];
  for (let index = days - 1; index >= 0; index--) {
    const start = new Date(today - index * DAY_MS);
    const date = start.toISOString().slice(0, 10);
    const byAgent = new Map<string, Tokens>();
    for (const row of byDay.filter((candidate) => candidate.date === date)) {
      const agent = row.agent ?? "all agents";
      const tokens = byAgent.get(agent) ?? zero();
      add(tokens, row);
      byAgent.set(agent, tokens);
    }
    buckets.push(bucket(new Date(start.getTime() + DAY_MS), shortUtcDate.format(start), longUtcDate.format(start), byAgent));
  }
  return buckets;
}

/**
 * The usage of the last `days` days, per day and per agent. `/api/usage` has totals per agent
 * for a window ending now but no per-day breakdown; unless the answer carries `byDay`, the days
 * come from one request per window length (all in parallel, each a small aggregate query).
 */
export async function fetchUsage(api: ApiClient, days: number, now: () => Date = () => new Date()): Promise<UsageSeries> {
  const report = await api.usage(days);
  const base = { days, totals: report.totals, byAgent: report.byAgent, agents: agentsByTokens(report.byAgent), hasCost: hasCost(report), disk: report.disk };
  if (report.byDay) return { ...base, buckets: bucketsFromDays(report.byDay, days, now()), calendarDays: true };
  if (report.totals.runs === 0) {
    return { ...base, buckets: bucketsFromWindows(Array.from({ length: days }, () => report), now()), calendarDays: false };
  }
  const shorter = await Promise.all(Array.from({ length: days - 1 }, (_, index) => api.usage(index + 1)));
  return { ...base, buckets: bucketsFromWindows([...shorter, report], now()), calendarDays: false };
}
