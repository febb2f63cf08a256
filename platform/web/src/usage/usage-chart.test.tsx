import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { UsageChart } from "./usage-chart";
import { bucketsFromDays, type UsageSeries } from "./usage-data";

const now = new Date("2026-11-28T15:00:00Z");

function series(rows: Parameters<typeof bucketsFromDays>[0]): UsageSeries {
  return {
    days: 3,
    buckets: bucketsFromDays(rows, 3, now),
    agents: [...new Set(rows.map((row) => row.agent ?? ""))],
    totals: { runs: 0, inputTokens: 0, outputTokens: 0 },
    byAgent: [],
    calendarDays: true,
    hasCost: false,
  };
}

const render = (value: UsageSeries) => renderToStaticMarkup(<UsageChart series={value} nameOf={(agent) => agent.toUpperCase()} colorOf={() => 1} />);

describe("usage chart", () => {
  it("draws one segment per agent and day, with a summary and a title per segment", () => {
    const html = render(
      series([
        { date: "2026-11-28", agent: "ada", runs: 1, inputTokens: 300, outputTokens: 100 },
        { date: "2026-11-28", agent: "bob", runs: 2, inputTokens: 50, outputTokens: 50 },
        { date: "2026-11-26", agent: "ada", runs: 1, inputTokens: 10, outputTokens: 10 },
      ]),
    );
    expect(html).toContain('role="img"');
    expect(html).toContain("<title");
    expect(html.match(/<rect class="series/g)).toHaveLength(3);
    expect(html).toContain("520 tokens over the last 3 days");
    expect(html).toContain("ADA · ");
    expect(html).toContain("BOB");
  });

  it("says so when nothing was used", () => {
    const html = render(series([]));
    expect(html).toContain("No tokens used in the last 3 days.");
    expect(html).not.toContain('<rect class="series');
  });
});
