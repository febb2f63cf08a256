import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import { readBudget, type BudgetGuard } from "../budgets";
import { audit } from "../db/audit";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { UsageIngest } from "../tenancy/usage-ingest";
import { markPolicyChanged, type PolicyPusher } from "../tenant-limits/policy-push";
import type { UsageRecorder } from "../usage-recorder";
import { readJson } from "../validation";

export const BudgetInput = z.object({
  monthlyTokens: z
    .number({ message: "must be a whole number of tokens, or null for no limit" })
    .int("must be a whole number of tokens")
    .min(0, "must not be negative")
    .max(Number.MAX_SAFE_INTEGER, "is too large")
    .nullable(),
});

/** `/api/budget`: the organisation's monthly token budget; anyone may read it, owners and admins set it. */
export function budgetRoutes(deps: { db: Database; now: () => Date; guard?: BudgetGuard; usage?: UsageRecorder; ingest?: Pick<UsageIngest, "sync">; policies?: PolicyPusher }) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  route("budget.read", async (c, { tenantId }) => {
    await deps.usage?.flush();
    await deps.ingest?.sync(tenantId);
    return c.json({ budget: await withTenant(deps.db, tenantId, (trx) => readBudget(trx, tenantId, deps.now())) });
  });

  route("budget.update", async (c, { tenantId, actor }) => {
    const { monthlyTokens } = await readJson(c, BudgetInput);
    await deps.usage?.flush();
    const budget = await withTenant(deps.db, tenantId, async (trx) => {
      const before = await trx.selectFrom("tenant_budgets").select("monthly_tokens").where("tenant_id", "=", tenantId).executeTakeFirst();
      await trx
        .insertInto("tenant_budgets")
        .values({ tenant_id: tenantId, monthly_tokens: monthlyTokens, updated_by: actor.userId, updated_at: deps.now() })
        .onConflict((conflict) => conflict.column("tenant_id").doUpdateSet({ monthly_tokens: monthlyTokens, updated_by: actor.userId, updated_at: deps.now() }))
        .execute();
      const from = before?.monthly_tokens === null || before?.monthly_tokens === undefined ? null : Number(before.monthly_tokens);
      await audit(trx, { tenantId, actor, action: "budget.update", target: tenantId, details: { from, to: monthlyTokens } });
      // The gateways refuse runs over the budget themselves (every entry point): they get it pushed.
      await markPolicyChanged(trx, tenantId);
      return readBudget(trx, tenantId, deps.now());
    });
    deps.guard?.invalidate(tenantId);
    // Not awaited: a slow gateway must not hold up the answer; a failed push is retried by the loop.
    void deps.policies?.push(tenantId);
    return c.json({ budget });
  });

  return app;
}
