import type { ApprovalRequiredEvent, UsageRecord } from "@workforce/protocol";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { IngestReaction } from "../tenancy/usage-ingest";
import { recordApprovalRequest } from "./approval-store";

/**
 * The usage journal's paused runs become approvals (in the ingest's transaction, so exactly once
 * per record, whoever started the run: chat, API, schedule), and the run a decision started fills
 * in the approval's `resume_run_id` if the gateway's answer to the platform was lost.
 */
export function approvalIngestReaction(options: { timeoutMs: number; now: () => Date }): IngestReaction {
  return async (trx, tenantId, records: readonly UsageRecord[]) => {
    for (const record of records) {
      if (record.status === "paused" && record.approval) {
        const { approval } = record;
        await recordApprovalRequest(
          trx,
          tenantId,
          {
            id: approval.id,
            agent: record.agent,
            sessionKey: record.sessionKey,
            runId: record.runId,
            toolCallId: approval.toolCallId,
            tool: approval.tool,
            input: approval.input,
            inputTruncated: approval.inputTruncated,
            requestedAt: new Date(approval.requestedAt),
          },
          options.timeoutMs,
          options.now(),
        );
      }
      if (record.resumes) {
        await trx
          .updateTable("approvals")
          .set({ resume_run_id: record.runId, resumed_at: new Date(record.queuedAt), resume_error: null, updated_at: options.now() })
          .where("tenant_id", "=", tenantId)
          .where("id", "=", record.resumes.approvalId)
          .where("status", "<>", "pending")
          .where("resume_run_id", "is", null)
          .execute();
      }
    }
  };
}

/**
 * The chat stream saw a run pause (it passes the `approval-required` event before the run's journal
 * line is written): the approval is recorded now, so the inbox shows it within a second. The
 * journal's record of it later finds it there.
 */
export function recordStreamedApproval(deps: { db: Database; timeoutMs: number; now: () => Date; logError: (message: string, error: unknown) => void }) {
  return (tenantId: string, session: { agent: string; sessionKey: string }, event: ApprovalRequiredEvent): Promise<void> =>
    withTenant(deps.db, tenantId, (trx) =>
      recordApprovalRequest(
        trx,
        tenantId,
        { id: event.approvalId, agent: session.agent, sessionKey: session.sessionKey, runId: event.runId, toolCallId: event.toolCallId, tool: event.name, input: event.input, requestedAt: new Date(event.at) },
        deps.timeoutMs,
        deps.now(),
      ),
    ).then(
      () => undefined,
      (error: unknown) => deps.logError(`could not record approval ${event.approvalId} from the chat stream (the usage journal brings it)`, error),
    );
}
