import { describe, expect, it } from "vitest";
import { checkTiming, dueTimes, firstFireAt, parseAt } from "./schedule-timing";

const now = new Date("2026-03-28T12:00:00Z");

describe("schedule timing", () => {
  it("reads a cron expression in its time zone, across both DST changes", () => {
    const daily = checkTiming({ kind: "cron", cron: "0 9 * * *", timezone: "Europe/Berlin" }, now, { requireFuture: true });
    // 09:00 in Berlin is 08:00 UTC in winter (CET) and 07:00 UTC from 29 March (CEST).
    expect(firstFireAt(daily, now)?.toISOString()).toBe("2026-03-29T07:00:00.000Z");
    expect(firstFireAt(daily, new Date("2026-03-27T12:00:00Z"))?.toISOString()).toBe("2026-03-28T08:00:00.000Z");
    // 02:30 does not exist on 29 March in Berlin: it runs at the first valid time after the gap, once.
    const gap = checkTiming({ kind: "cron", cron: "30 2 * * *", timezone: "Europe/Berlin" }, now, { requireFuture: true });
    expect(firstFireAt(gap, now)?.toISOString()).toBe("2026-03-29T01:00:00.000Z");
    // 02:30 occurs twice on 25 October: it runs once.
    const due = dueTimes(gap, new Date("2026-10-24T00:30:00Z"), new Date("2026-10-25T23:00:00Z"));
    expect(due).toMatchObject({ count: 2, last: new Date("2026-10-25T00:30:00Z"), previous: new Date("2026-10-24T00:30:00Z") });
  });

  it("refuses what cannot fire, naming it", () => {
    const bad = (input: Parameters<typeof checkTiming>[0]) => {
      try {
        checkTiming(input, now, { requireFuture: true });
      } catch (error) {
        return { code: (error as { code: string }).code, message: (error as Error).message };
      }
      return undefined;
    };
    expect(bad({ kind: "cron", cron: "61 * * * *", timezone: "UTC" })).toEqual({ code: "invalid_schedule", message: expect.stringMatching(/"61 \* \* \* \*" is not valid: .*minute/) });
    expect(bad({ kind: "cron", cron: "0 0 9 * * *", timezone: "UTC" })?.message).toMatch(/has 6 fields; it needs five/);
    expect(bad({ kind: "cron", cron: "0 9 * * *", timezone: "Mars/Olympus" })?.message).toMatch(/Unknown time zone "Mars\/Olympus"/);
    expect(bad({ kind: "at", at: "2026-03-28T11:59", timezone: "UTC" })?.message).toMatch(/in the past/);
    expect(bad({ kind: "at", at: "tomorrow", timezone: "UTC" })?.message).toMatch(/not an ISO 8601 time/);
    expect(bad({ kind: "every", everyMinutes: 0, timezone: "UTC" })?.message).toMatch(/from 1 to/);
    expect(bad({ kind: "every", everyMinutes: 5, cron: "* * * * *", timezone: "UTC" })?.message).toMatch(/takes only "everyMinutes"/);
  });

  it("reads an `at` time without offset in the schedule's time zone", () => {
    expect(parseAt("2026-12-24T09:00", "America/New_York").toISOString()).toBe("2026-12-24T14:00:00.000Z");
    expect(parseAt("2026-12-24T09:00:00+01:00", "America/New_York").toISOString()).toBe("2026-12-24T08:00:00.000Z");
  });

  it("counts the times due since the stored next firing, and the one after now", () => {
    const every = checkTiming({ kind: "every", everyMinutes: 15, timezone: "UTC" }, now, { requireFuture: true });
    expect(dueTimes(every, new Date("2026-03-28T12:15:00Z"), now)).toBeUndefined();
    expect(dueTimes(every, new Date("2026-03-28T11:00:00Z"), now)).toEqual({
      count: 5,
      first: new Date("2026-03-28T11:00:00Z"),
      last: new Date("2026-03-28T12:00:00Z"),
      previous: new Date("2026-03-28T11:45:00Z"),
      next: new Date("2026-03-28T12:15:00Z"),
    });
    const minutely = checkTiming({ kind: "cron", cron: "* * * * *", timezone: "UTC" }, now, { requireFuture: true });
    const capped = dueTimes(minutely, new Date("2026-03-20T00:00:00Z"), now, 100);
    expect(capped).toMatchObject({ count: 100, last: now, previous: new Date("2026-03-28T11:59:00Z"), next: new Date("2026-03-28T12:01:00Z") });
  });
});
