import { describe, expect, it } from "vitest";
import { localMinutes, nextWithinActiveHours, withinActiveHours } from "./active-hours";

const at = (iso: string) => new Date(iso);

describe("active hours in a time zone", () => {
  it("reads the wall clock of the time zone, daylight saving included", () => {
    expect(localMinutes(at("2026-01-15T08:30:00Z"), "Europe/Berlin")).toBe(9 * 60 + 30);
    expect(localMinutes(at("2026-07-15T08:30:00Z"), "Europe/Berlin")).toBe(10 * 60 + 30);
    expect(localMinutes(at("2026-07-15T23:59:00Z"), "UTC")).toBe(1_439);
  });

  it("is inside a day window from start (inclusive) to end (exclusive), and 24:00 ends the day", () => {
    const day = { start: "09:00", end: "17:00" };
    expect(withinActiveHours(at("2026-03-02T09:00:00Z"), day, "UTC")).toBe(true);
    expect(withinActiveHours(at("2026-03-02T16:59:00Z"), day, "UTC")).toBe(true);
    expect(withinActiveHours(at("2026-03-02T17:00:00Z"), day, "UTC")).toBe(false);
    expect(withinActiveHours(at("2026-03-02T23:59:00Z"), { start: "08:00", end: "24:00" }, "UTC")).toBe(true);
    expect(withinActiveHours(at("2026-03-02T03:00:00Z"), null, "UTC")).toBe(true);
  });

  it("wraps midnight when the end comes before the start", () => {
    const night = { start: "22:00", end: "06:00" };
    expect(withinActiveHours(at("2026-03-02T23:30:00Z"), night, "UTC")).toBe(true);
    expect(withinActiveHours(at("2026-03-02T05:59:00Z"), night, "UTC")).toBe(true);
    expect(withinActiveHours(at("2026-03-02T12:00:00Z"), night, "UTC")).toBe(false);
  });

  it("finds the next opening in the time zone, or keeps a time already inside", () => {
    const day = { start: "09:00", end: "17:00" };
    expect(nextWithinActiveHours(at("2026-03-02T10:00:00Z"), day, "UTC").toISOString()).toBe("2026-03-02T10:00:00.000Z");
    expect(nextWithinActiveHours(at("2026-03-02T17:00:00Z"), day, "UTC").toISOString()).toBe("2026-03-03T09:00:00.000Z");
    // 09:00 in New York in March after the change to daylight saving time is 13:00 UTC.
    expect(nextWithinActiveHours(at("2026-03-09T02:00:00Z"), day, "America/New_York").toISOString()).toBe("2026-03-09T13:00:00.000Z");
    // The night before the change (08 March 2026, 02:00 is skipped): a window opening at 02:30 opens at 03:00.
    expect(nextWithinActiveHours(at("2026-03-08T06:00:00Z"), { start: "02:30", end: "04:00" }, "America/New_York").toISOString()).toBe("2026-03-08T07:00:00.000Z");
    expect(nextWithinActiveHours(at("2026-03-02T12:00:00Z"), { start: "22:00", end: "06:00" }, "Asia/Tokyo").toISOString()).toBe("2026-03-02T13:00:00.000Z");
  });
});
