import { withSystem } from "./db/scopes";
import { describe, expect, it } from "vitest";
import { createBudgetGuard, monthPeriod } from "./budgets";
import { openTestDatabase } from "./test-support/test-platform";

describe("monthPeriod", () => {
  it("is the calendar month in UTC, across a year end", () => {
    expect(monthPeriod(new Date("2025-12-31T23:59:59.999Z"))).toEqual({ start: new Date("2025-12-01T00:00:00Z"), end: new Date("2026-01-01T00:00:00Z") });
    expect(monthPeriod(new Date("2024-02-01T00:00:00Z"))).toEqual({ start: new Date("2024-02-01T00:00:00Z"), end: new Date("2024-03-01T00:00:00Z") });
  });
});

describe("the budget guard", () => {
  it("counts runs that ended here at once, and reads a budget changed elsewhere after its TTL", async () => {
    const database = await openTestDatabase();
    try {
      const tenantId = (await withSystem(database.system, (trx) => trx.insertInto("tenants").values({ name: "Budget", created_at: new Date() }).returning("id").executeTakeFirstOrThrow())).id;
      let uncommitted = 0;
      const guard = createBudgetGuard({ db: database.db, uncommittedTokens: () => uncommitted, ttlMs: 60_000 });
      const now = new Date();
      await guard.assertWithinBudget(tenantId, now);
      // Set behind the guard's back (another process): not seen until the cached state expires.
      await withSystem(database.system, (trx) => trx.insertInto("tenant_budgets").values({ tenant_id: tenantId, monthly_tokens: 10, updated_at: now }).execute());
      await guard.assertWithinBudget(tenantId, now);
      await expect(guard.assertWithinBudget(tenantId, new Date(now.getTime() + 60_001))).resolves.toBeUndefined();
      guard.recorded(tenantId, 10);
      await expect(guard.assertWithinBudget(tenantId, new Date(now.getTime() + 60_002))).rejects.toMatchObject({ code: "budget_exceeded", status: 429 });
      // A fresh read adds the usage still waiting to be written.
      guard.invalidate(tenantId);
      uncommitted = 10;
      await expect(guard.assertWithinBudget(tenantId, now)).rejects.toMatchObject({ code: "budget_exceeded" });
    } finally {
      await database.close();
    }
  });

  it("shares one read among the sends that find no fresh budget at once", async () => {
    const database = await openTestDatabase();
    try {
      const tenantId = (await withSystem(database.system, (trx) => trx.insertInto("tenants").values({ name: "Burst", created_at: new Date() }).returning("id").executeTakeFirstOrThrow())).id;
      const now = new Date();
      await withSystem(database.system, (trx) => trx.insertInto("tenant_budgets").values({ tenant_id: tenantId, monthly_tokens: 10, updated_at: now }).execute());
      let reads = 0;
      let uncommitted = 0;
      const guard = createBudgetGuard({ db: database.db, uncommittedTokens: () => uncommitted, ttlMs: 60_000, beforeRead: async () => void (reads += 1) });
      await Promise.all(Array.from({ length: 50 }, () => guard.assertWithinBudget(tenantId, now)));
      expect(reads).toBe(1);
      // Expired, the next burst reads once more, and every send of it sees the same answer.
      uncommitted = 10;
      const later = new Date(now.getTime() + 60_001);
      const answers = await Promise.allSettled(Array.from({ length: 20 }, () => guard.assertWithinBudget(tenantId, later)));
      expect(reads).toBe(2);
      expect(answers.every((answer) => answer.status === "rejected" && (answer.reason as { code?: string }).code === "budget_exceeded")).toBe(true);
    } finally {
      await database.close();
    }
  });
});
