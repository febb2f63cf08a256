import { AppError, type ErrorCode } from "@workforce/protocol";
import { sql } from "kysely";
import type { Database, TenantTransaction } from "./db/schema";
import { withTenant } from "./db/scopes";
import { SingleFlight, TtlCache } from "./ttl-cache";

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

/** A tenant's budget state as last read: the limit and the month's committed usage. */
interface BudgetState {
  monthlyTokens: number | null;
  usedTokens: number;
  periodStart: number;
  periodEnd: number;
}

/**
 * The monthly token limit in force: the operator's plan cap (tenant_limits) and the
 * organisation's own budget, the smaller of the two, as in the policy the gateways enforce; null
 * when neither is set. Indexed lookups only (most organisations have no budget).
 */
export async function monthlyTokenLimit(trx: TenantTransaction, tenantId: string): Promise<number | null> {
  const row = await trx.selectFrom("tenant_budgets").select("monthly_tokens").where("tenant_id", "=", tenantId).executeTakeFirst();
  const plan = await trx.selectFrom("tenant_limits").select("monthly_tokens").where("tenant_id", "=", tenantId).executeTakeFirst();
  const limits = [row?.monthly_tokens, plan?.monthly_tokens].filter((value): value is NonNullable<typeof value> => value !== null && value !== undefined).map(Number);
  return limits.length === 0 ? null : Math.min(...limits);
}

async function readBudgetState(db: Database, tenantId: string, now: Date): Promise<BudgetState> {
  const { start, end } = monthPeriod(now);
  return withTenant(db, tenantId, async (trx) => {
    const monthlyTokens = await monthlyTokenLimit(trx, tenantId);
    const none = { monthlyTokens: null, usedTokens: 0, periodStart: start.getTime(), periodEnd: end.getTime() };
    if (monthlyTokens === null) return none;
    const budget = await readBudget(trx, tenantId, now);
    return { ...none, monthlyTokens, usedTokens: budget.usedTokens };
  });
}

function exceeded(state: BudgetState, now: Date): AppError {
  const retryAfter = Math.max(1, Math.ceil((state.periodEnd - now.getTime()) / 1000));
  const periodStart = new Date(state.periodStart).toISOString();
  const periodEnd = new Date(state.periodEnd).toISOString();
  return new AppError(
    BUDGET_EXCEEDED_CODE,
    `This organisation's monthly token budget is used up (${state.usedTokens} of ${state.monthlyTokens} tokens since ${periodStart}); ` +
      `sending resumes on ${periodEnd}, or sooner if an owner or admin raises the budget`,
    { status: 429, retryable: false, headers: { "retry-after": String(retryAfter) } },
  );
}

/**
 * Refuses a new run once the month's recorded usage has reached the budget. Usage is recorded
 * when a run ends, so runs already under way may take a tenant somewhat past its budget: the
 * limit is checked before each send, not enforced token by token.
 */
export async function assertWithinBudget(db: Database, tenantId: string, now: Date): Promise<void> {
  const state = await readBudgetState(db, tenantId, now);
  if (state.monthlyTokens !== null && state.usedTokens >= state.monthlyTokens) throw exceeded(state, now);
}

/**
 * How long a budget (limit and committed usage) is trusted without reading it again. A budget
 * changed through another platform process takes effect within this time; changes through this
 * process's budget route, and usage of runs that ended here, count at once.
 */
export const BUDGET_CACHE_TTL_MS = 5_000;

export interface BudgetGuardOptions {
  db: Database;
  /** Tokens of this tenant's ended runs not yet written to usage_events (the usage recorder's queue). */
  uncommittedTokens: (tenantId: string) => number;
  ttlMs?: number;
  maxEntries?: number;
  /** Brings the tenant's usage up to date before it is read (the gateway's journal); never throws. */
  beforeRead?: (tenantId: string) => Promise<void>;
}

/**
 * `assertWithinBudget` with the budget remembered per tenant for a few seconds: a send costs no
 * database round trip. Usage that ended in this process since the read is added to the read
 * figure, so a tenant over its limit is refused as soon as this process knows it.
 */
export function createBudgetGuard(options: BudgetGuardOptions) {
  const ttlMs = options.ttlMs ?? BUDGET_CACHE_TTL_MS;
  type CachedState = BudgetState & { uncommittedAtRead: number; recordedSince: number };
  const states = new TtlCache<string, CachedState>(options.maxEntries ?? 10_000);
  /** The read under way per tenant: every send that finds no fresh state meanwhile waits for it, not for a read of its own. */
  const reading = new SingleFlight<string, CachedState>();
  /** Moves on with every invalidation: a read begun before one answers its waiters and is not kept. */
  let generation = 0;

  function read(tenantId: string, now: Date): Promise<CachedState> {
    const at = generation;
    return reading.run(tenantId, async () => {
      await options.beforeRead?.(tenantId);
      const uncommittedAtRead = options.uncommittedTokens(tenantId);
      const state = { ...(await readBudgetState(options.db, tenantId, now)), uncommittedAtRead, recordedSince: 0 };
      if (at === generation) states.set(tenantId, state, now.getTime() + ttlMs);
      return state;
    });
  }

  return {
    ttlMs,

    async assertWithinBudget(tenantId: string, now: Date): Promise<void> {
      const at = now.getTime();
      let state = states.get(tenantId, at);
      if (!state || at >= state.periodEnd || at < state.periodStart) state = await read(tenantId, now);
      if (state.monthlyTokens === null) return;
      // Committed at read + ended in this process since, or still waiting to be written at the read.
      const used = state.usedTokens + state.uncommittedAtRead + state.recordedSince;
      if (used >= state.monthlyTokens) throw exceeded({ ...state, usedTokens: used }, now);
    },

    /** A run of this tenant ended here with this many tokens (call when its usage is queued). */
    recorded(tenantId: string, tokens: number): void {
      const state = states.get(tenantId, Number.NEGATIVE_INFINITY);
      if (state) state.recordedSince += tokens;
    },

    /** The budget was changed (or the tenant erased): read it afresh on the next send. */
    invalidate(tenantId: string): void {
      states.delete(tenantId);
      reading.forget(tenantId);
      generation += 1;
    },
  };
}

export type BudgetGuard = ReturnType<typeof createBudgetGuard>;
