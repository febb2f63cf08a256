import type { OrganisationLimitOverrides, OrganisationLimits, TenantPolicy } from "@workforce/protocol";
import type { SystemTransaction, TenantTransaction } from "../db/schema";

/** The installation's limits where the operator set none (platform config; API limits from the rate-limit config). */
export interface TenantLimitDefaults {
  maxConcurrentRuns: number;
  maxQueuedRuns: number;
  /** 0: no disk quota. */
  diskMb: number;
  /** API requests per minute per key and user; null when no default is configured. */
  requestsPerMinute?: number | null;
  /** Concurrent streams per key and user; null when no default is configured. */
  maxStreams?: number | null;
}

/** Everything an organisation's policy is made of, read in one transaction. */
export interface TenantLimitInputs {
  tenantId: string;
  overrides: OrganisationLimitOverrides;
  /** The organisation's own monthly budget (`tenant_budgets`); null: none. */
  budgetMonthlyTokens: number | null;
  suspended: { reason: string | null } | null;
  updatedAt: Date | null;
  updatedBy: string | null;
}

const NO_OVERRIDES: OrganisationLimitOverrides = { maxConcurrentRuns: null, maxQueuedRuns: null, monthlyTokens: null, diskMb: null, requestsPerMinute: null, maxStreams: null };

const numberOrNull = (value: string | number | null | undefined): number | null => (value === null || value === undefined ? null : Number(value));

/** The smaller of two limits, where null means none. */
export function smallerLimit(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/** The installation's defaults in the answers' shape (the operator sets no token cap by default). */
export function defaultLimits(defaults: TenantLimitDefaults): OrganisationLimits {
  return {
    maxConcurrentRuns: defaults.maxConcurrentRuns,
    maxQueuedRuns: defaults.maxQueuedRuns,
    monthlyTokens: null,
    diskMb: defaults.diskMb === 0 ? null : defaults.diskMb,
    requestsPerMinute: defaults.requestsPerMinute ?? null,
    maxStreams: defaults.maxStreams ?? null,
  };
}

/** Defaults + the operator's overrides, the token limit being the smaller of the plan's and the organisation's budget. */
export function effectiveLimits(defaults: TenantLimitDefaults, overrides: OrganisationLimitOverrides, budgetMonthlyTokens: number | null): OrganisationLimits {
  const base = defaultLimits(defaults);
  const disk = overrides.diskMb ?? defaults.diskMb;
  return {
    maxConcurrentRuns: overrides.maxConcurrentRuns ?? base.maxConcurrentRuns,
    maxQueuedRuns: overrides.maxQueuedRuns ?? base.maxQueuedRuns,
    monthlyTokens: smallerLimit(overrides.monthlyTokens, budgetMonthlyTokens),
    diskMb: disk === 0 ? null : disk,
    requestsPerMinute: overrides.requestsPerMinute ?? base.requestsPerMinute,
    maxStreams: overrides.maxStreams ?? base.maxStreams,
  };
}

/** What the gateways enforce (`PUT /v1/tenant/policy`). */
export function tenantPolicy(version: number, inputs: TenantLimitInputs, defaults: TenantLimitDefaults): TenantPolicy {
  const limits = effectiveLimits(defaults, inputs.overrides, inputs.budgetMonthlyTokens);
  return {
    version,
    suspended: inputs.suspended !== null,
    suspendedReason: inputs.suspended?.reason?.slice(0, 500) ?? null,
    limits: {
      maxConcurrentRuns: limits.maxConcurrentRuns,
      maxQueuedRuns: limits.maxQueuedRuns,
      monthlyTokens: limits.monthlyTokens,
      diskBytes: limits.diskMb === null ? null : limits.diskMb * 1024 * 1024,
    },
  };
}

/** The overrides of a `tenant_limits` row (absent: none). */
export function overridesOf(row: {
  max_concurrent_runs: number | null;
  max_queued_runs: number | null;
  monthly_tokens: string | number | null;
  disk_mb: string | number | null;
  requests_per_minute: number | null;
  max_streams: number | null;
} | undefined): OrganisationLimitOverrides {
  if (!row) return NO_OVERRIDES;
  return {
    maxConcurrentRuns: row.max_concurrent_runs,
    maxQueuedRuns: row.max_queued_runs,
    monthlyTokens: numberOrNull(row.monthly_tokens),
    diskMb: numberOrNull(row.disk_mb),
    requestsPerMinute: row.requests_per_minute,
    maxStreams: row.max_streams,
  };
}

/**
 * An organisation's limits, budget and suspension, inside the caller's transaction (its own
 * tenant's, or the system scope). Undefined when the organisation does not exist (or is not visible).
 */
export async function readLimitInputs(trx: TenantTransaction | SystemTransaction, tenantId: string): Promise<TenantLimitInputs | undefined> {
  const row = await trx
    .selectFrom("tenants")
    .leftJoin("tenant_limits", "tenant_limits.tenant_id", "tenants.id")
    .leftJoin("tenant_budgets", "tenant_budgets.tenant_id", "tenants.id")
    .select([
      "tenants.id",
      "tenants.suspended_at",
      "tenants.suspended_reason",
      "tenant_limits.max_concurrent_runs",
      "tenant_limits.max_queued_runs",
      "tenant_limits.monthly_tokens",
      "tenant_limits.disk_mb",
      "tenant_limits.requests_per_minute",
      "tenant_limits.max_streams",
      "tenant_limits.updated_at",
      "tenant_limits.updated_by",
      "tenant_budgets.monthly_tokens as budget_monthly_tokens",
    ])
    .where("tenants.id", "=", tenantId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    tenantId: row.id,
    overrides: row.updated_at ? overridesOf(row) : NO_OVERRIDES,
    budgetMonthlyTokens: numberOrNull(row.budget_monthly_tokens),
    suspended: row.suspended_at ? { reason: row.suspended_reason } : null,
    updatedAt: row.updated_at ?? null,
    updatedBy: row.updated_by ?? null,
  };
}
