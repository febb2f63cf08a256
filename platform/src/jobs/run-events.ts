import type { UsageRecord } from "@workforce/protocol";
import type { TenantTransaction } from "../db/schema";
import { recordTenantEvent } from "./tenant-events";

/**
 * `run.completed` / `run.failed` for every run any gateway ended, whatever started it (chat, API,
 * hooks, schedules): from the usage journal's records, in the transaction that ingests them, so
 * each run is told once. A paused run (waiting for an approval) is neither.
 */
export async function recordRunEvents(trx: TenantTransaction, tenantId: string, records: readonly UsageRecord[]): Promise<void> {
  for (const record of records) {
    if (record.trigger?.kind === "title") continue; // naming a chat (decision 043) is metered like a run but is not one
    const type = record.status === "ok" ? "run.completed" : record.status === "error" || record.status === "aborted" ? "run.failed" : undefined;
    if (!type) continue;
    await recordTenantEvent(trx, tenantId, {
      type,
      dedupeKey: `run:${record.runId}`,
      occurredAt: new Date(record.endedAt),
      data: {
        runId: record.runId,
        agent: record.agent,
        sessionKey: record.sessionKey,
        status: record.status,
        source: record.source,
        ...(record.trigger ? { trigger: record.trigger } : {}),
        inputTokens: record.inputTokens,
        outputTokens: record.outputTokens,
        endedAt: record.endedAt,
      },
    });
  }
}
