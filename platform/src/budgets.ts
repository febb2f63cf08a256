import { AppError, type ErrorCode } from "@workforce/protocol";
import { sql } from "kysely";
import type { Database, TenantTransaction } from "./db/schema";
import { withTenant } from "./db/with-tenant";

/** The code a send over budget is refused with (429, not retryable before the month ends). */
export const BUDGET_EXCEEDED_CODE: ErrorCode = "budget_exceeded";

/** A tenant's budget for the current calendar month (UTC). */
export interface BudgetView {
  /** Tokens (input + output) the organisation may use per month; null means no limit. */
  monthlyTokens: number | null;
  usedTokens: number;
  /** null when there is no limit; never negative. */
  remainingTokens: number | null;
  periodStart: string;
  periodEnd: string;
  updatedAt: string | null;
  updatedBy: string | null;
}

/** The calendar month (UTC) that contains `now`. */
export function monthPeriod(now: Date): { start: Date; end: Date } {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { start, end };
}

/** The budget and this month's usage, read inside the tenant's transaction (row-level security applies). */
export async function readBudget(trx: TenantTransaction, tenantId: string, now: Date): Promise<BudgetView> {
  const { start, end } = monthPeriod(now);
  const budget = await trx.selectFrom("tenant_budgets").select(["monthly_tokens", "updated_at", "updated_by"]).where("tenant_id", "=", tenantId).executeTakeFirst();
  const used = await trx
    .selectFrom("usage_events")
    .select(sql<string | number>`coalesce(sum(input_tokens + output_tokens), 0)`.as("tokens"))
    .where("tenant_id", "=", tenantId)
    .where("created_at", ">=", start)
    .where("created_at", "<", end)
    .executeTakeFirst();
  const monthlyTokens = budget?.monthly_tokens === null || budget?.monthly_tokens === undefined ? null : Number(budget.monthly_tokens);
  const usedTokens = Number(used?.tokens ?? 0);
  return {
    monthlyTokens,
    usedTokens,
    remainingTokens: monthlyTokens === null ? null : Math.max(0, monthlyTokens - usedTokens),
    periodStart: start.toISOString(),
    periodEnd: end.toISOString(),
    updatedAt: budget ? budget.updated_at.toISOString() : null,
    updatedBy: budget?.updated_by ?? null,
  };
}

/**
 * Refuses a new run once the month's recorded usage has reached the budget. Usage is recorded
 * when a run ends, so runs already under way may take a tenant somewhat past its budget: the
 * limit is checked before each send, not enforced token by token.
 */
export async function assertWithinBudget(db: Database, tenantId: string, now: Date): Promise<void> {
  const budget = await withTenant(db, tenantId, async (trx) => {
    // Most organisations have no budget: one indexed lookup, no sum over the month's usage.
    const row = await trx.selectFrom("tenant_budgets").select("monthly_tokens").where("tenant_id", "=", tenantId).executeTakeFirst();
    if (row?.monthly_tokens === null || row?.monthly_tokens === undefined) return undefined;
    return readBudget(trx, tenantId, now);
  });
  if (!budget || budget.monthlyTokens === null || budget.usedTokens < budget.monthlyTokens) return;
  const retryAfter = Math.max(1, Math.ceil((Date.parse(budget.periodEnd) - now.getTime()) / 1000));
  throw new AppError(
    BUDGET_EXCEEDED_CODE,
    `This organisation's monthly token budget is used up (${budget.usedTokens} of ${budget.monthlyTokens} tokens since ${budget.periodStart}); ` +
      `sending resumes on ${budget.periodEnd}, or sooner if an owner or admin raises the budget`,
    { status: 429, retryable: false, headers: { "retry-after": String(retryAfter) } },
  );
}
