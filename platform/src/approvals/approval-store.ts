import { USAGE_APPROVAL_INPUT_MAX_CHARS, type ApprovalView, type SessionOwner } from "@workforce/protocol";
import type { Actor } from "../auth/operation-route";
import type { TenantTransaction } from "../db/schema";
import { enqueueJob } from "../jobs/job-queue";
import { recordTenantEvent } from "../jobs/tenant-events";

/*
 * The approvals table (migration 020): how a paused tool call becomes a row, and how rows are
 * read back as the API shows them, with the session's owner and the decider named.
 */

/** The job that denies an approval nobody decided in time (key: `jobKey`). */
export const EXPIRE_JOB = "approvals.expire";
/** The job that hands a decision to the gateway (key: `jobKey`). */
export const RESUME_JOB = "approvals.resume";
/** An approval's jobs' dedupe key: job keys are unique across organisations, approval ids only within one. */
export const jobKey = (tenantId: string, approvalId: string) => `${tenantId}:${approvalId}`;

/** A paused tool call, as the usage journal or the chat stream tells it. */
export interface ApprovalRequest {
  id: string;
  agent: string;
  sessionKey: string;
  runId: string;
  toolCallId: string;
  tool: string;
  input: unknown;
  /** The gateway already cut the arguments short (`input` is the start of their JSON). */
  inputTruncated?: boolean | undefined;
  requestedAt: Date;
}

/** The gateway's approval ids (they go into URLs); run and tool-call ids only need to fit. */
const ID = /^[\w.:-]{1,200}$/;
const fits = (value: string) => value.length > 0 && value.length <= 200;

/** The arguments as stored: whole when their JSON is short, else its start as a string (jsonb holds no NUL characters). */
export function cappedInput(input: unknown, truncated = false): { json: string; truncated: boolean } {
  const json = JSON.stringify(input ?? null, (_key, value: unknown) => (typeof value === "string" ? value.replaceAll("\u0000", "\ufffd") : value)) ?? "null";
  if (json.length <= USAGE_APPROVAL_INPUT_MAX_CHARS && !json.includes("\\u0000")) return { json, truncated };
  return { json: JSON.stringify(json.replaceAll("\\u0000", "\\ufffd").slice(0, USAGE_APPROVAL_INPUT_MAX_CHARS)), truncated: true };
}

/**
 * Records a paused call once (the journal and the stream may both tell it): the row, the
 * `approval.required` event, and the job that denies it at `requestedAt + timeoutMs`. A request
 * that cannot be a row (an agent the platform does not know, ids out of shape) is skipped, so
 * one odd journal line never holds up the ingest. Answers whether it was new.
 */
export async function recordApprovalRequest(trx: TenantTransaction, tenantId: string, request: ApprovalRequest, timeoutMs: number, now: Date): Promise<boolean> {
  const shaped = ID.test(request.id) && [request.runId, request.toolCallId, request.tool, request.sessionKey].every(fits);
  if (!shaped || Number.isNaN(request.requestedAt.getTime())) return false;
  const agent = await trx.selectFrom("agents").select("slug").where("tenant_id", "=", tenantId).where("slug", "=", request.agent).executeTakeFirst();
  if (!agent) return false;
  const expiresAt = new Date(request.requestedAt.getTime() + timeoutMs);
  const input = cappedInput(request.input, request.inputTruncated === true);
  const inserted = await trx
    .insertInto("approvals")
    .values({
      tenant_id: tenantId,
      id: request.id,
      agent_slug: request.agent,
      session_key: request.sessionKey,
      run_id: request.runId,
      tool_call_id: request.toolCallId,
      tool: request.tool,
      input: input.json,
      input_truncated: input.truncated,
      requested_at: request.requestedAt,
      expires_at: expiresAt,
      updated_at: now,
    })
    .onConflict((conflict) => conflict.columns(["tenant_id", "id"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  if (!inserted) return false;
  // Names and times only: the arguments may hold anything the model wrote (GET /api/approvals/{id} shows them to those who may decide).
  await recordTenantEvent(trx, tenantId, {
    type: "approval.required",
    dedupeKey: `approval:${request.id}`,
    occurredAt: request.requestedAt,
    data: { approvalId: request.id, agent: request.agent, sessionKey: request.sessionKey, runId: request.runId, tool: request.tool, requestedAt: request.requestedAt.toISOString(), expiresAt: expiresAt.toISOString() },
  });
  await enqueueJob(trx, { kind: EXPIRE_JOB, tenantId, key: jobKey(tenantId, request.id), payload: { approvalId: request.id }, runAt: expiresAt });
  return true;
}

/** Approvals with the session's owner and the decider, by their names (row-level security shows only the tenant's people). */
export function approvalRows(trx: TenantTransaction, tenantId: string) {
  return trx
    .selectFrom("approvals")
    .leftJoin("session_owners", (join) =>
      join
        .onRef("session_owners.tenant_id", "=", "approvals.tenant_id")
        .onRef("session_owners.agent_slug", "=", "approvals.agent_slug")
        .onRef("session_owners.session_key", "=", "approvals.session_key"),
    )
    .leftJoin("users as owner_user", "owner_user.id", "session_owners.user_id")
    .leftJoin("api_keys as owner_key", "owner_key.id", "session_owners.api_key_id")
    .leftJoin("users as decider", "decider.id", "approvals.decided_by")
    .leftJoin("api_keys as decider_key", "decider_key.id", "approvals.decided_by_api_key")
    .selectAll("approvals")
    .select([
      "session_owners.user_id as owner_user_id",
      "session_owners.api_key_id as owner_api_key_id",
      "owner_user.email as owner_email",
      "owner_key.name as owner_key_name",
      "decider.email as decider_email",
      "decider_key.name as decider_key_name",
    ])
    .where("approvals.tenant_id", "=", tenantId);
}

export type ApprovalRow = Awaited<ReturnType<ReturnType<typeof approvalRows>["executeTakeFirstOrThrow"]>>;

/** Whose session the approval is in, as the session-owner checks want it. */
export const ownerOf = (row: Pick<ApprovalRow, "owner_user_id" | "owner_api_key_id">) => ({ userId: row.owner_user_id, apiKeyId: row.owner_api_key_id });

/** Whether `viewer` sees this row when they may not see others' (their own session's approvals only). */
export function isOwnApproval(row: Pick<ApprovalRow, "owner_user_id" | "owner_api_key_id">, viewer: Actor): boolean {
  return viewer.userId ? row.owner_user_id === viewer.userId : viewer.apiKeyId !== null && row.owner_api_key_id === viewer.apiKeyId;
}

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

function sessionOwner(row: ApprovalRow): SessionOwner {
  if (row.owner_user_id) return { type: "user", id: row.owner_user_id, email: row.owner_email ?? null };
  if (row.owner_api_key_id) return { type: "api-key", id: row.owner_api_key_id, name: row.owner_key_name ?? null };
  return { type: "none", id: null };
}

function decider(row: ApprovalRow): ApprovalView["decidedBy"] {
  if (row.status === "pending") return null;
  if (row.decided_by) return { type: "user", id: row.decided_by, label: row.decider_email ?? null };
  if (row.decided_by_api_key) return { type: "api-key", id: row.decided_by_api_key, label: row.decider_key_name ?? null };
  return row.status === "expired" ? { type: "system", id: null, label: "timeout" } : null;
}

export function approvalView(row: ApprovalRow): ApprovalView {
  return {
    id: row.id,
    agent: row.agent_slug,
    sessionKey: row.session_key,
    sessionOwner: sessionOwner(row),
    runId: row.run_id,
    toolCallId: row.tool_call_id,
    tool: row.tool,
    // jsonb comes back parsed (Postgres and PGlite alike).
    input: row.input,
    inputTruncated: row.input_truncated,
    status: row.status,
    requestedAt: new Date(row.requested_at).toISOString(),
    expiresAt: new Date(row.expires_at).toISOString(),
    decidedAt: iso(row.decided_at),
    decidedBy: decider(row),
    reason: row.reason,
    resume: { runId: row.resume_run_id, at: iso(row.resumed_at), error: row.resume_error },
  };
}
