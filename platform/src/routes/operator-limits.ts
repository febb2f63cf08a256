import { AppError, ORGANISATION_LIMIT_FIELDS, OrganisationLimitsPatch, UUID_PATTERN, type OperatorLimitsView, type OrganisationLimitOverrides } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import { audit } from "../db/audit";
import type { SystemDatabase, SystemTransaction } from "../db/schema";
import { withSystem } from "../db/scopes";
import type { LimitsReader } from "../tenant-limits/limits-reader";
import { markPolicyChanged, type PolicyPusher } from "../tenant-limits/policy-push";
import { defaultLimits, effectiveLimits, readLimitInputs, type TenantLimitDefaults } from "../tenant-limits/tenant-limits";
import { readJson } from "../validation";
import type { BudgetGuard } from "../budgets";
import { requireOperator } from "./operator";

export interface OperatorLimitsDeps {
  system: SystemDatabase;
  now: () => Date;
  defaults: TenantLimitDefaults;
  policies: PolicyPusher;
  limitsReader?: LimitsReader;
  /** The platform's budget check: a new token cap counts at this process's next send. */
  budget?: Pick<BudgetGuard, "invalidate">;
}

const NO_SUCH_ORGANISATION = () => new AppError("not_found", "No such organisation");

/** An organisation's limits as the operator sees them; undefined when it does not exist. */
async function readOperatorView(trx: SystemTransaction, tenantId: string, defaults: TenantLimitDefaults): Promise<OperatorLimitsView | undefined> {
  const inputs = await readLimitInputs(trx, tenantId);
  if (!inputs) return undefined;
  const push = await trx.selectFrom("tenant_policy_pushes").select(["version", "pushed_version", "pushed_at", "last_error"]).where("tenant_id", "=", tenantId).executeTakeFirst();
  return {
    tenantId,
    effective: effectiveLimits(defaults, inputs.overrides, inputs.budgetMonthlyTokens),
    monthlyTokens: { plan: inputs.overrides.monthlyTokens, budget: inputs.budgetMonthlyTokens },
    suspended: inputs.suspended,
    overrides: inputs.overrides,
    defaults: defaultLimits(defaults),
    updatedAt: inputs.updatedAt?.toISOString() ?? null,
    updatedBy: inputs.updatedBy,
    push: {
      version: Number(push?.version ?? 0),
      pushedVersion: Number(push?.pushed_version ?? 0),
      pushedAt: push?.pushed_at?.toISOString() ?? null,
      lastError: push?.last_error ?? null,
    },
  };
}

/** The fields a patch changes, before and after (for the audit log). */
function changes(before: OrganisationLimitOverrides, after: OrganisationLimitOverrides) {
  const changed = ORGANISATION_LIMIT_FIELDS.filter((field) => before[field] !== after[field]);
  return {
    from: Object.fromEntries(changed.map((field) => [field, before[field]])),
    to: Object.fromEntries(changed.map((field) => [field, after[field]])),
  };
}

/**
 * `/api/operator/tenants/{id}/limits`: the operator reads and sets an organisation's plan limits
 * (null: back to the installation's default). A change is audited into the organisation's log,
 * marked for a push in the same transaction, and pushed to the gateway before the answer.
 */
export function operatorLimitRoutes(deps: OperatorLimitsDeps) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  const tenantIdOf = (id: string | undefined): string => {
    if (id === undefined || !UUID_PATTERN.test(id)) throw NO_SUCH_ORGANISATION();
    return id;
  };

  route("operator.limits", async (c, { user }) => {
    await requireOperator(deps.system, user);
    const tenantId = tenantIdOf(c.req.param("id"));
    const view = await withSystem(deps.system, (trx) => readOperatorView(trx, tenantId, deps.defaults));
    if (!view) throw NO_SUCH_ORGANISATION();
    return c.json({ limits: view });
  });

  route("operator.update-limits", async (c, { user: operator }) => {
    await requireOperator(deps.system, operator);
    const tenantId = tenantIdOf(c.req.param("id"));
    const patch = await readJson(c, OrganisationLimitsPatch);
    await withSystem(deps.system, async (trx) => {
      const inputs = await readLimitInputs(trx, tenantId);
      if (!inputs) throw NO_SUCH_ORGANISATION();
      const after: OrganisationLimitOverrides = { ...inputs.overrides, ...patch };
      const columns = {
        max_concurrent_runs: after.maxConcurrentRuns,
        max_queued_runs: after.maxQueuedRuns,
        monthly_tokens: after.monthlyTokens,
        disk_mb: after.diskMb,
        requests_per_minute: after.requestsPerMinute,
        max_streams: after.maxStreams,
        updated_at: deps.now(),
        updated_by: operator.id,
      };
      await trx
        .insertInto("tenant_limits")
        .values({ tenant_id: tenantId, ...columns })
        .onConflict((conflict) => conflict.column("tenant_id").doUpdateSet(columns))
        .execute();
      await audit(trx, { tenantId, actor: { userId: operator.id, apiKeyId: null }, action: "limits.update", target: tenantId, details: changes(inputs.overrides, after) });
      await markPolicyChanged(trx, tenantId);
    });
    deps.limitsReader?.invalidate(tenantId);
    deps.budget?.invalidate(tenantId);
    // In force on the gateways before the answer when they are up; else the reconcile loop retries.
    await deps.policies.push(tenantId);
    const view = await withSystem(deps.system, (trx) => readOperatorView(trx, tenantId, deps.defaults));
    if (!view) throw NO_SUCH_ORGANISATION();
    return c.json({ limits: view });
  });

  return app;
}
