import { AppError, UUID_PATTERN, type OrganisationLimits } from "@workforce/protocol";
import { Hono } from "hono";
import { sql } from "kysely";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import type { AuthCache } from "../auth/auth-cache";
import type { AuthenticatedUser } from "../auth/access-token";
import { operationRoutes } from "../auth/operation-route";
import { monthPeriod } from "../budgets";
import { audit } from "../db/audit";
import type { SystemDatabase } from "../db/schema";
import { withSystem } from "../db/scopes";
import { markPolicyChanged, type PolicyPusher } from "../tenant-limits/policy-push";
import { effectiveLimits, overridesOf, type TenantLimitDefaults } from "../tenant-limits/tenant-limits";
import type { UsageRecorder } from "../usage-recorder";
import { parseWith, readJson } from "../validation";

export const OperatorTenantsQuery = z.object({
  limit: z.coerce.number({ message: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").max(200, "must be at most 200").default(50),
  /** `nextCursor` of the previous page. */
  cursor: z.string().regex(/^[0-9]{1,9}$/, "must be the nextCursor of a previous page").optional(),
});

export const SuspensionInput = z.object({
  suspended: z.boolean({ message: "must be true or false" }),
  /** Shown to the organisation's members while it is suspended. */
  reason: z.string().trim().max(500, "must be at most 500 characters").optional(),
});

export interface OperatorTenantView {
  id: string;
  name: string;
  createdAt: string;
  members: number;
  owners: string[];
  suspended: { at: string; reason: string | null } | null;
  /** This calendar month (UTC): tokens used and runs, and the monthly budget (null: none). */
  usage: { tokens: number; runs: number; monthlyTokens: number | null };
  /** The limits in force (the installation's defaults, the operator's overrides, the budget). */
  limits: OrganisationLimits;
}

/** The signed-in user must be the installation's operator (the permission table's `operator` level); 403 otherwise. */
export async function requireOperator(system: SystemDatabase, user: AuthenticatedUser): Promise<void> {
  const row = await withSystem(system, (trx) => trx.selectFrom("users").select("is_operator").where("id", "=", user.id).executeTakeFirst());
  if (!row?.is_operator) throw new AppError("forbidden", "Only the installation's operator can do this");
}

/**
 * `/api/operator`: the installation's operator sees every organisation with this month's usage
 * and may suspend one (its members' requests are refused with `tenant_suspended` until lifted).
 * Cross-tenant by nature, so it runs in the system scope; each suspension is written to the
 * organisation's own audit log.
 */
export function operatorRoutes(deps: {
  system: SystemDatabase;
  now: () => Date;
  defaults: TenantLimitDefaults;
  policies?: PolicyPusher;
  authCache?: AuthCache;
  usage?: UsageRecorder;
}) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  route("operator.tenants", async (c, { user }) => {
    await requireOperator(deps.system, user);
    const query = parseWith(OperatorTenantsQuery, c.req.query());
    const offset = Number(query.cursor ?? 0);
    const { start, end } = monthPeriod(deps.now());
    // Runs that ended on this process are batched for up to a second; count them too, as /api/usage does.
    await deps.usage?.flush();
    const rows = await withSystem(deps.system, (trx) =>
      trx
        .selectFrom("tenants")
        .leftJoin("tenant_budgets", "tenant_budgets.tenant_id", "tenants.id")
        .leftJoin("tenant_limits", "tenant_limits.tenant_id", "tenants.id")
        .select([
          "tenant_limits.max_concurrent_runs",
          "tenant_limits.max_queued_runs",
          "tenant_limits.monthly_tokens as plan_monthly_tokens",
          "tenant_limits.disk_mb",
          "tenant_limits.requests_per_minute",
          "tenant_limits.max_streams",
          "tenants.id",
          "tenants.name",
          "tenants.created_at",
          "tenants.suspended_at",
          "tenants.suspended_reason",
          "tenant_budgets.monthly_tokens",
          sql<string>`(select count(*) from memberships m where m.tenant_id = tenants.id)::text`.as("members"),
          sql<string[] | null>`(select array_agg(u.email order by u.email) from memberships m join users u on u.id = m.user_id where m.tenant_id = tenants.id and m.role = 'owner')`.as("owners"),
          sql<string>`(select coalesce(sum(e.input_tokens + e.output_tokens), 0) from usage_events e where e.tenant_id = tenants.id and e.created_at >= ${start} and e.created_at < ${end})::text`.as("tokens"),
          sql<string>`(select count(*) from usage_events e where e.tenant_id = tenants.id and e.created_at >= ${start} and e.created_at < ${end})::text`.as("runs"),
        ])
        .orderBy("tenants.created_at", "asc")
        .orderBy("tenants.id", "asc")
        .limit(query.limit + 1)
        .offset(offset)
        .execute(),
    );
    const page = rows.slice(0, query.limit);
    const tenants: OperatorTenantView[] = page.map((row) => {
      const budget = row.monthly_tokens === null ? null : Number(row.monthly_tokens);
      return {
        id: row.id,
        name: row.name,
        createdAt: row.created_at.toISOString(),
        members: Number(row.members),
        owners: row.owners ?? [],
        suspended: row.suspended_at ? { at: row.suspended_at.toISOString(), reason: row.suspended_reason } : null,
        usage: { tokens: Number(row.tokens), runs: Number(row.runs), monthlyTokens: budget },
        limits: effectiveLimits(deps.defaults, overridesOf({ ...row, monthly_tokens: row.plan_monthly_tokens }), budget),
      };
    });
    return c.json({ tenants, nextCursor: rows.length > query.limit ? String(offset + query.limit) : null });
  });

  route("operator.suspend", async (c, { user: operator }) => {
    await requireOperator(deps.system, operator);
    const id = c.req.param("id");
    if (!UUID_PATTERN.test(id)) throw new AppError("not_found", "No such organisation");
    const input = await readJson(c, SuspensionInput);
    const tenant = await withSystem(deps.system, async (trx) => {
      const updated = await trx
        .updateTable("tenants")
        .set(input.suspended ? { suspended_at: deps.now(), suspended_reason: input.reason ?? null } : { suspended_at: null, suspended_reason: null })
        .where("id", "=", id)
        .returning(["id", "name", "suspended_at", "suspended_reason"])
        .executeTakeFirst();
      if (!updated) throw new AppError("not_found", "No such organisation");
      await audit(trx, {
        tenantId: id,
        actor: { userId: operator.id, apiKeyId: null },
        action: input.suspended ? "tenant.suspend" : "tenant.unsuspend",
        target: id,
        details: input.reason ? { reason: input.reason } : {},
      });
      await markPolicyChanged(trx, id);
      return updated;
    });
    // The gateways refuse the organisation's runs from every entry point (hooks, the OpenAI endpoint) too.
    await deps.policies?.push(id);
    // This process refuses the organisation's next request; the others within the cache's lifetime.
    deps.authCache?.invalidateTenant(id);
    return c.json({
      tenant: { id: tenant.id, name: tenant.name, suspended: tenant.suspended_at ? { at: tenant.suspended_at.toISOString(), reason: tenant.suspended_reason } : null },
    });
  });

  return app;
}
