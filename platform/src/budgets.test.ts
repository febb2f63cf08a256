import { describe, expect, it } from "vitest";
import { monthPeriod } from "./budgets";

describe("monthPeriod", () => {
  it("is the calendar month in UTC, across a year end", () => {
    expect(monthPeriod(new Date("2025-12-31T23:59:59.999Z"))).toEqual({ start: new Date("2025-12-01T00:00:00Z"), end: new Date("2026-01-01T00:00:00Z") });
    expect(monthPeriod(new Date("2024-02-01T00:00:00Z"))).toEqual({ start: new Date("2024-02-01T00:00:00Z"), end: new Date("2024-03-01T00:00:00Z") });
  });
});
