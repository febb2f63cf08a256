import { describe, expect, it } from "vitest";
import { formatDay, formatIn, formatRelative, relativeTime } from "./relative-time";

const NOW = Date.parse("2026-12-03T12:00:00.000Z");
const minutes = (count: number) => NOW + count * 60_000;

describe("times as people say them", () => {
  it("says how long until, or how long ago, in the reader's language", () => {
    expect(formatIn(833, NOW, "en")).toBe("in 14 minutes");
    expect(formatRelative(minutes(-3), NOW, "en")).toBe("3 minutes ago");
    expect(formatRelative(minutes(-60 * 24), NOW, "en")).toBe("yesterday");
    expect(formatRelative(minutes(58), NOW, "en")).toBe("in 1 hour");
    expect(formatRelative(NOW + 10_000, NOW, "en")).toBe("now");
    expect(formatIn(90, NOW, "de")).toBe("in 2 Minuten");
  });

  it("names a day without the year when it is this year's", () => {
    expect(formatDay("2026-12-25T10:00:00.000Z", NOW, "en-GB")).toBe("25 December");
    expect(formatDay("2027-01-01T12:00:00.000Z", NOW, "en-GB")).toBe("1 January 2027");
    expect(formatDay("2027-01-01T12:00:00.000Z", NOW, "fr")).toBe("1 janvier 2027");
  });

  it("says recent times relatively and older ones as their day", () => {
    expect(relativeTime(new Date(minutes(-2)).toISOString(), NOW, "en")).toBe("2 minutes ago");
    expect(relativeTime("2026-11-01T12:00:00.000Z", NOW, "en-GB")).toBe("1 November");
    expect(relativeTime("not a date", NOW)).toBe("");
  });
});
