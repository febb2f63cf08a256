import { AppError } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import { audit } from "../db/audit";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";
import type { Tenancy } from "../tenancy";
import { eraseTenant } from "../tenant-erasure";
import { exportTenant } from "../tenant-export";
import type { AuthCache } from "../auth/auth-cache";
import type { BudgetGuard } from "../budgets";
import type { UsageRecorder } from "../usage-recorder";
import { readJson } from "../validation";

export const EraseInput = z.object({
  confirm: z.string({ message: "is required: send the organisation's name to confirm" }).trim().min(1, "is required: send the organisation's name to confirm"),
});

/** `GET /api/tenant/export` (owners/admins) and `DELETE /api/tenant` (owners, with confirmation). */
export function tenantDataRoutes(deps: {
  db: Database;
  gateway: GatewayClient;
  tenancy: Tenancy;
  now: () => Date;
  authCache?: AuthCache;
  guard?: BudgetGuard;
  usage?: UsageRecorder;
  /** Erases what the integrations hold for the tenant outside our database. */
  eraseIntegrations?: (tenantId: string) => Promise<void>;
}) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  route("tenant.export", async (c, { tenantId, actor }) => {
    await deps.usage?.flush();
    const bundle = await exportTenant(deps, tenantId);
    await withTenant(deps.db, tenantId, (trx) =>
      audit(trx, { tenantId, actor, action: "tenant.export", target: tenantId, details: { agents: bundle.agents.length } }),
    );
    c.header("content-disposition", `attachment; filename="workforce-${tenantId}.json"`);
    return c.json(bundle);
  });

  route("tenant.delete", async (c, { tenantId }) => {
    const { confirm } = await readJson(c, EraseInput);
    const { name, members } = await withTenant(deps.db, tenantId, async (trx) => ({
      name: (await trx.selectFrom("tenants").select("name").where("id", "=", tenantId).executeTakeFirstOrThrow()).name,
      members: (await trx.selectFrom("memberships").select("user_id").where("tenant_id", "=", tenantId).execute()).length,
    }));
    if (confirm !== name) {
      throw new AppError("validation_failed", `confirm: must be the organisation's name ("${name}") to delete it and all its data`);
    }
    await deps.usage?.flush();
    const erased = await eraseTenant(deps, tenantId);
    deps.authCache?.invalidateTenant(tenantId);
    deps.guard?.invalidate(tenantId);
    // A receipt the owner can keep: which organisation, how much of it, and when.
    return c.json({ deleted: { ...erased, organisation: name, members, erasedAt: deps.now().toISOString() } });
  });

  return app;
}
