import type { UsageRecord } from "@workforce/protocol";
import { monthlyTokenLimit, monthPeriod, readBudget } from "../budgets";
import type { TenantTransaction } from "../db/schema";
import { recordTenantEvent } from "../jobs/tenant-events";

/** Shares of the monthly budget an organisation hears about, once each per month. */
export const BUDGET_THRESHOLDS = [80, 100] as const;

/** `2026-12` for a time in December 2026 (UTC, like the budget's months). */
const monthOf = (at: Date) => at.toISOString().slice(0, 7);

/**
 * `budget.threshold` when the organisation's usage reaches 80% and 100% of its monthly token
 * limit (its own budget or the operator's cap, whichever is smaller): a reaction of the usage
 * ingest, so it sees the month's usage with the page's records already counted, in the same
 * transaction. Each threshold is told once per month (dedupe key `budget:{yyyy-mm}:{80|100}`),
 * however many pages or processes see it crossed. Jumping past both at once tells both.
 */
export async function recordBudgetThresholds(trx: TenantTransaction, tenantId: string, records: readonly UsageRecord[]): Promise<void> {
  if (records.length === 0) return;
  const monthlyTokens = await monthlyTokenLimit(trx, tenantId);
  if (monthlyTokens === null) return;
  // The newest run end of each month the page touches: a journal read late may hold last month's runs.
  const latest = new Map<string, Date>();
  for (const record of records) {
    const endedAt = new Date(record.endedAt);
    if (Number.isNaN(endedAt.getTime())) continue;
    const month = monthOf(endedAt);
    if ((latest.get(month)?.getTime() ?? -Infinity) < endedAt.getTime()) latest.set(month, endedAt);
  }
  for (const [month, at] of latest) {
    const { usedTokens } = await readBudget(trx, tenantId, at);
    const { start, end } = monthPeriod(at);
    for (const threshold of BUDGET_THRESHOLDS) {
      if (usedTokens * 100 < monthlyTokens * threshold) continue;
      await recordTenantEvent(trx, tenantId, {
        type: "budget.threshold",
        dedupeKey: `budget:${month}:${threshold}`,
        occurredAt: at,
        data: { threshold, month, usedTokens, monthlyTokens, periodStart: start.toISOString(), periodEnd: end.toISOString() },
      });
    }
  }
}
