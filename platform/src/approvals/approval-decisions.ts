import { AppError, type ApprovalDecisionInput, type ApprovalView } from "@workforce/protocol";
import type { Actor, TenantAccess } from "../auth/operation-route";
import { assertSessionAccess, relationOf } from "../chat/session-owners";
import { audit } from "../db/audit";
import type { Database, TenantTransaction } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";
import type { RunIntegrationsResolver } from "../integrations/run-integrations";
import { enqueueJob, type Job, type JobResult } from "../jobs/job-queue";
import { approvalRows, approvalView, jobKey, ownerOf, RESUME_JOB, type ApprovalRow } from "./approval-store";

/*
 * Deciding an approval (decision 038): one transaction marks it decided (only while pending, so
 * of two deciders one wins), audits who, and enqueues the job that hands the decision to the
 * gateway. The gateway starts the run that carries on (approve: the call runs; deny or timeout:
 * the model reads the refusal) and joins a repeat of the same decision to that run, so the job
 * may run any number of times, from any platform process.
 */

export interface ApprovalDecisionsDeps {
  db: Database;
  gateway: Pick<GatewayClient, "decideApproval">;
  /** What the carrying-on run may use, resolved like a message's (decision 032). */
  integrations?: RunIntegrationsResolver | undefined;
  now: () => Date;
  logError: (message: string, error: unknown) => void;
  /** Reads the tenant's usage journal now (an approval asked for a moment ago may not be ingested yet). */
  sync?: (tenantId: string) => Promise<void>;
}

/** Gateway answers that another try would not change: the decision is recorded as undeliverable. */
const UNDELIVERABLE = new Set(["approval_not_pending", "approval_not_found", "session_not_found", "agent_not_found", "validation_failed"]);

const notFound = (id: string) => ({ code: "approval_not_found" as const, message: `No approval "${id.slice(0, 200)}"` });
const DONE_AS: Record<Exclude<ApprovalRow["status"], "pending">, string> = { approved: "approved", denied: "denied", expired: "denied when nobody decided in time" };

export function createApprovalDecisions(deps: ApprovalDecisionsDeps) {
  const find = (tenantId: string, id: string) => withTenant(deps.db, tenantId, (trx) => approvalRows(trx, tenantId).where("approvals.id", "=", id).executeTakeFirst());

  /** The approval, if the caller may see it (their own session's, or anyone's for owners and admins); 404 otherwise. */
  async function visible(access: TenantAccess, id: string): Promise<ApprovalRow> {
    let row = await find(access.tenantId, id);
    if (!row && deps.sync) {
      // The chat shows the approval as its run pauses; the journal line may still be on its way.
      await deps.sync(access.tenantId);
      row = await find(access.tenantId, id);
    }
    if (!row) throw new AppError(notFound(id).code, notFound(id).message);
    assertSessionAccess(access, relationOf(ownerOf(row), access.actor), notFound(id));
    return row;
  }

  /** Marks it decided, audits and enqueues the resume, in one transaction; a second decider gets 409. */
  async function decide(access: TenantAccess, id: string, decision: "approve" | "deny", reason: string | undefined): Promise<ApprovalView> {
    const row = await visible(access, id);
    const { tenantId, actor } = access;
    const now = deps.now();
    await withTenant(deps.db, tenantId, async (trx) => {
      const updated = await trx
        .updateTable("approvals")
        .set({ status: decision === "approve" ? "approved" : "denied", decided_at: now, decided_by: actor.userId, decided_by_api_key: actor.apiKeyId, reason: reason || null, updated_at: now })
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .where("status", "=", "pending")
        .returning("id")
        .executeTakeFirst();
      if (!updated) {
        const current = await trx.selectFrom("approvals").select("status").where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
        const how = current && current.status !== "pending" ? DONE_AS[current.status] : "decided";
        throw new AppError("approval_already_decided", `Approval "${id}" was already ${how}`);
      }
      await settle(trx, tenantId, row, actor, decision === "approve" ? "approval.approve" : "approval.deny", reason, now);
    });
    // Handed over at once, so the answer can name the run that carries on; the job retries if this fails.
    await deliver(tenantId, id).catch(() => undefined);
    return approvalView((await find(tenantId, id)) ?? row);
  }

  /** The audit entry and the resume job of a decision, in its transaction. */
  async function settle(trx: TenantTransaction, tenantId: string, row: ApprovalRow, actor: Actor, action: string, reason: string | undefined, now: Date): Promise<void> {
    const owner = ownerOf(row);
    await audit(trx, {
      tenantId,
      actor,
      action,
      target: row.id,
      details: { agent: row.agent_slug, sessionKey: row.session_key, tool: row.tool, runId: row.run_id, ...(reason ? { reason } : {}), sessionOwner: owner },
    });
    await enqueueJob(trx, { kind: RESUME_JOB, tenantId, key: jobKey(tenantId, row.id), payload: { approvalId: row.id }, runAt: now });
  }

  /**
   * Hands a decided approval to the gateway, once: the run it starts is recorded. A refusal a retry
   * would not change is recorded as the resume's error; anything else throws, for the job to retry.
   */
  async function deliver(tenantId: string, id: string): Promise<void> {
    const row = await find(tenantId, id);
    if (!row || row.status === "pending" || row.resume_run_id) return;
    const input: ApprovalDecisionInput = {
      decision: row.status === "approved" ? "approve" : "deny",
      ...(row.reason ? { reason: row.reason } : {}),
      ...(row.status === "expired" ? { timedOut: true } : {}),
      // Carried out by the platform (at once or from its job queue): metered and named as a platform-fired run.
      trigger: { kind: "approval", id },
    };
    const actor = row.decided_by ? { userId: row.decided_by } : row.decided_by_api_key ? { apiKeyId: row.decided_by_api_key } : {};
    const recordOutcome = (values: { resume_run_id?: string; resumed_at?: Date; resume_error: string | null }) =>
      withTenant(deps.db, tenantId, (trx) =>
        trx.updateTable("approvals").set({ ...values, updated_at: deps.now() }).where("tenant_id", "=", tenantId).where("id", "=", id).where("resume_run_id", "is", null).execute(),
      );
    try {
      const integrations = await deps.integrations?.forRun(tenantId, row.agent_slug);
      const run = await deps.gateway.decideApproval(tenantId, row.agent_slug, row.session_key, id, { ...input, ...(integrations ? { integrations } : {}) }, actor);
      await recordOutcome({ resume_run_id: run.runId, resumed_at: deps.now(), resume_error: null });
    } catch (error) {
      const detail = error instanceof AppError ? `${error.code}: ${error.message}` : "the decision could not be handed to the gateway";
      await recordOutcome({ resume_error: detail.slice(0, 2_000) }).catch((recordError: unknown) => deps.logError(`approval ${id}: could not record why its decision was not delivered`, recordError));
      if (error instanceof AppError && UNDELIVERABLE.has(error.code)) return;
      throw error;
    }
  }

  /** `approvals.expire`: denies an approval still pending at its expiry, as the platform ("timeout"). */
  async function expire(job: Job): Promise<JobResult> {
    const id = String(job.payload.approvalId);
    const tenantId = job.tenantId;
    if (!tenantId) return;
    const now = deps.now();
    return withTenant(deps.db, tenantId, async (trx): Promise<JobResult> => {
      const row = await approvalRows(trx, tenantId).where("approvals.id", "=", id).executeTakeFirst();
      if (!row || row.status !== "pending") return;
      // Due by the clock of the process that enqueued it; not yet by this one's.
      if (new Date(row.expires_at) > now) return { again: new Date(row.expires_at) };
      await trx
        .updateTable("approvals")
        .set({ status: "expired", decided_at: now, reason: "timeout", updated_at: now })
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .where("status", "=", "pending")
        .execute();
      await settle(trx, tenantId, row, { userId: null, apiKeyId: null }, "approval.expire", "timeout", now);
    });
  }

  /** `approvals.resume`: delivers the decision (retried with backoff while the gateway cannot take it). */
  async function resume(job: Job): Promise<JobResult> {
    if (job.tenantId) await deliver(job.tenantId, String(job.payload.approvalId));
  }

  return { visible, decide, deliver, expire, resume };
}

export type ApprovalDecisions = ReturnType<typeof createApprovalDecisions>;
