import { describe, expect, it } from "vitest";
import { actionLabel } from "../audit/audit-actions";
import { dayStart } from "../audit/audit-filters";
import { parseTokens, formatResetDay } from "./budget-text";

describe("what the governance screens read and say", () => {
  it("takes a budget typed with separators, and refuses what is not a whole number of tokens", () => {
    expect(parseTokens("1,000,000")).toBe(1_000_000);
    expect(parseTokens(" 1 000 000 ")).toBe(1_000_000);
    expect(parseTokens("0")).toBe(0);
    expect(parseTokens("lots")).toBeUndefined();
    expect(parseTokens("-5")).toBeUndefined();
    expect(parseTokens("1.5e3x")).toBeUndefined();
    expect(parseTokens("99999999999999999")).toBeUndefined();
  });

  it("names the reset day in UTC, whatever the reader's time zone", () => {
    expect(formatResetDay("2027-01-01T00:00:00.000Z")).toMatch(/^(1 January|January 1)$/);
  });

  it("labels audit actions in words, and shows an unknown one as it is", () => {
    expect(actionLabel("agent.create")).toBe("Agent created");
    expect(actionLabel("member.role_change")).toBe("Member role changed");
    expect(actionLabel("auth.sign_in_failed")).toBe("Failed sign-in");
    expect(actionLabel("future.thing")).toBe("future.thing");
  });

  it("turns the reader's calendar days into the instants the audit filter sends", () => {
    const start = new Date(dayStart("2026-12-01")!);
    expect([start.getFullYear(), start.getMonth(), start.getDate(), start.getHours()]).toEqual([2026, 11, 1, 0]);
    const end = new Date(dayStart("2026-12-31", true)!);
    expect([end.getFullYear(), end.getMonth(), end.getDate(), end.getHours()]).toEqual([2027, 0, 1, 0]);
    expect(dayStart("")).toBeUndefined();
  });
});
