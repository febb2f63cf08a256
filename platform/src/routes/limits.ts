import { AppError, type OrganisationLimitsView } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import { effectiveLimits, readLimitInputs, type TenantLimitDefaults } from "../tenant-limits/tenant-limits";

/** `GET /api/limits`: the organisation's limits in force, read-only (the operator sets them). */
export function limitRoutes(deps: { db: Database; defaults: TenantLimitDefaults }) {
  const app = new Hono<AppEnv>();
  operationRoutes(app)("limits.read", async (c, { tenantId }) => {
    const inputs = await withTenant(deps.db, tenantId, (trx) => readLimitInputs(trx, tenantId));
    if (!inputs) throw new AppError("not_found", "No such organisation");
    const limits: OrganisationLimitsView = {
      effective: effectiveLimits(deps.defaults, inputs.overrides, inputs.budgetMonthlyTokens),
      monthlyTokens: { plan: inputs.overrides.monthlyTokens, budget: inputs.budgetMonthlyTokens },
      suspended: inputs.suspended,
    };
    return c.json({ limits });
  });
  return app;
}
