import type { UsageRecord } from "@workforce/protocol";
import { sql } from "kysely";
import type { TenantTransaction } from "../db/schema";
import { recordTenantEvent } from "./tenant-events";

/** How much of an alert's text its `heartbeat.alert` event carries (the whole alert is in the heartbeat session). */
export const ALERT_EVENT_TEXT_CHARS = 500;

const COUNTERS = { ok: "ok_count", alert: "alert_count", skipped: "skipped_count", failed: "failed_count" } as const;

/**
 * What came of heartbeat runs, from their usage records (an ingest reaction: in the transaction
 * that ingests them, so once per record): the heartbeat's counters and last outcome, and for an
 * alert its text and a `heartbeat.alert` event, which is the notification (webhooks fan it out,
 * the web app shows it). A record seen twice changes nothing the second time.
 */
export async function recordHeartbeatOutcomes(trx: TenantTransaction, tenantId: string, records: readonly UsageRecord[]): Promise<void> {
  for (const record of records) {
    const { trigger, heartbeat } = record;
    if (trigger?.kind !== "heartbeat" || !heartbeat) continue;
    const counter = COUNTERS[heartbeat.outcome];
    const at = new Date(record.endedAt);
    const alert = heartbeat.outcome === "alert" ? (heartbeat.text ?? "") : undefined;
    const failed = heartbeat.outcome === "failed";
    const updated = await trx
      .updateTable("agent_heartbeats")
      .set({
        [counter]: sql<number>`${sql.ref(counter)} + 1`,
        last_outcome: heartbeat.outcome,
        last_at: at,
        last_run_id: record.runId,
        last_outcome_run_id: record.runId,
        last_error_code: failed ? `run_${record.status}` : null,
        last_error_message: failed ? `The heartbeat's run ended ${record.status === "aborted" ? "aborted" : "in an error"}` : null,
        ...(alert === undefined ? {} : { last_alert_text: alert, last_alert_at: at, last_alert_run_id: record.runId }),
      })
      .where("tenant_id", "=", tenantId)
      .where("id", "=", trigger.id)
      .where(sql<boolean>`last_outcome_run_id is distinct from ${record.runId}`)
      .returning(["agent_slug"])
      .executeTakeFirst();
    if (!updated || alert === undefined) continue;
    await recordTenantEvent(trx, tenantId, {
      type: "heartbeat.alert",
      dedupeKey: `heartbeat.alert:${record.runId}`,
      occurredAt: at,
      data: {
        heartbeatId: trigger.id,
        agent: updated.agent_slug,
        sessionKey: record.sessionKey,
        runId: record.runId,
        text: alert.length > ALERT_EVENT_TEXT_CHARS ? `${alert.slice(0, ALERT_EVENT_TEXT_CHARS - 1)}…` : alert,
      },
    });
  }
}
