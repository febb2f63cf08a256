import type { HeartbeatView } from "@workforce/protocol";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it, vi } from "vitest";
import { draftOf, HeartbeatOutcomes, scheduleText, updateOf } from "./heartbeat-panel";

// The app's router reads the browser's location when it loads; these tests render without a browser.
vi.hoisted(() => {
  const global = globalThis as { window?: unknown };
  global.window ??= { location: { pathname: "/", search: "" }, addEventListener: () => undefined, history: {} };
});

const VIEW: HeartbeatView = {
  agent: "ada",
  enabled: true,
  everyMinutes: 30,
  activeHours: { start: "09:00", end: "17:00" },
  timeZone: "Europe/Berlin",
  sessionKey: "heartbeat",
  enabledBy: { userId: "u1", email: "olga@example.com" },
  nextDueAt: "2026-12-03T10:30:00.000Z",
  counts: { ok: 12, alert: 1, skipped: 0, failed: 0, refused: 2 },
  last: { outcome: "refused", at: "2026-12-03T10:00:00.000Z", runId: null, error: { code: "budget_exceeded", message: "The monthly token budget is used up" } },
  lastAlert: { text: "URGENT: the ACME invoice is overdue.", at: "2026-12-03T09:00:00.000Z", runId: "run-1" },
  file: { content: "- Look at the inbox", exists: true, empty: false },
};

describe("the heartbeat panel", () => {
  it("says when the heartbeat runs, or that it is off", () => {
    expect(scheduleText(VIEW)).toMatch(/^Every 30 min, 09:00–17:00 Europe\/Berlin · next /);
    expect(scheduleText({ ...VIEW, enabled: false })).toBe("Off");
  });

  it("shows the counters, why the last one was refused, and the last alert with a way to its chat", () => {
    const html = renderToStaticMarkup(<HeartbeatOutcomes view={VIEW} agent="ada" />);
    expect(html).toContain("12 OK");
    expect(html).toContain("2 refused");
    expect(html).toContain("budget_exceeded");
    expect(html).toContain("URGENT: the ACME invoice is overdue.");
    expect(html).toContain('href="/agents/ada?session=heartbeat"');
    expect(renderToStaticMarkup(<HeartbeatOutcomes view={{ ...VIEW, last: null, lastAlert: null }} agent="ada" />)).toContain("No heartbeat has run yet.");
  });

  it("sends the settings as typed, and HEARTBEAT.md only when it changed", () => {
    const draft = draftOf(VIEW);
    expect(updateOf(draft, VIEW)).toEqual({ enabled: true, everyMinutes: 30, activeHours: { start: "09:00", end: "17:00" }, timeZone: "Europe/Berlin" });
    expect(updateOf({ ...draft, limitHours: false, everyMinutes: "15", content: "- Check the build" }, VIEW)).toEqual({
      enabled: true,
      everyMinutes: 15,
      activeHours: null,
      timeZone: "Europe/Berlin",
      content: "- Check the build",
    });
  });
});
