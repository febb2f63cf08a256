import { describe, expect, it } from "vitest";
import type { ApiClient } from "../api/client";
import type { UsageReport } from "../api/platform-schemas";
import { bucketsFromDays, fetchUsage, totalTokens } from "./usage-data";

const now = new Date("2026-11-28T15:00:00Z");

function report(days: number, byAgent: UsageReport["byAgent"]): UsageReport {
  const totals = byAgent.reduce(
    (sum, row) => ({ runs: sum.runs + row.runs, inputTokens: sum.inputTokens + row.inputTokens, outputTokens: sum.outputTokens + row.outputTokens }),
    { runs: 0, inputTokens: 0, outputTokens: 0 },
  );
  return { since: new Date(now.getTime() - days * 86_400_000).toISOString(), days, totals, byAgent };
}

describe("usage per day", () => {
  it("derives each day from windows of growing length, per agent", async () => {
    // ada: 10+5 tokens today, 100+50 three days ago; bob: 7+3 two days ago.
    const windows: Record<number, UsageReport> = {
      1: report(1, [{ agent: "ada", runs: 1, inputTokens: 10, outputTokens: 5 }]),
      2: report(2, [{ agent: "ada", runs: 1, inputTokens: 10, outputTokens: 5 }]),
      3: report(3, [
        { agent: "ada", runs: 1, inputTokens: 10, outputTokens: 5 },
        { agent: "bob", runs: 1, inputTokens: 7, outputTokens: 3 },
      ]),
      4: report(4, [
        { agent: "ada", runs: 2, inputTokens: 110, outputTokens: 55 },
        { agent: "bob", runs: 1, inputTokens: 7, outputTokens: 3 },
      ]),
    };
    const asked: number[] = [];
    const api = { usage: async (days: number) => (asked.push(days), windows[days]!) } as unknown as ApiClient;

    const series = await fetchUsage(api, 4, () => now);
    expect(asked.sort()).toEqual([1, 2, 3, 4]);
    expect(series.calendarDays).toBe(false);
    expect(series.agents).toEqual(["ada", "bob"]);
    // Oldest first: 3 days ago, 2 days ago, yesterday, today.
    expect(series.buckets.map((bucket) => totalTokens(bucket.total))).toEqual([150, 10, 0, 15]);
    expect(series.buckets[0]!.byAgent.get("ada")).toMatchObject({ runs: 1, inputTokens: 100, outputTokens: 50 });
    expect(series.buckets[1]!.byAgent.get("bob")).toMatchObject({ runs: 1, inputTokens: 7, outputTokens: 3 });
    expect(series.buckets[1]!.byAgent.has("ada")).toBe(false);
    expect(series.buckets[3]!.title).toBe("Last 24 hours");
  });

  it("asks only once when nothing was used", async () => {
    const asked: number[] = [];
    const api = { usage: async (days: number) => (asked.push(days), report(days, [])) } as unknown as ApiClient;
    const series = await fetchUsage(api, 7, () => now);
    expect(asked).toEqual([7]);
    expect(series.buckets).toHaveLength(7);
    expect(series.buckets.every((bucket) => totalTokens(bucket.total) === 0)).toBe(true);
  });

  it("uses calendar days when the platform sends byDay", () => {
    const buckets = bucketsFromDays(
      [
        { date: "2026-11-28", agent: "ada", runs: 1, inputTokens: 4, outputTokens: 2, costUsd: 0.5 },
        { date: "2026-11-26", agent: "ada", runs: 1, inputTokens: 1, outputTokens: 1 },
      ],
      3,
      now,
    );
    expect(buckets.map((bucket) => totalTokens(bucket.total))).toEqual([2, 0, 6]);
    expect(buckets[2]!.total.costUsd).toBe(0.5);
  });
});
