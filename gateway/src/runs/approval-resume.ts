import { AppError, type ApprovalDecision, type ApprovalDecisionLine, type PendingApproval, type RunActor, type TranscriptEntry } from "@workforce/protocol";
import type { Transcript } from "../sessions/transcript";
import type { ToolCall } from "./tool-step";

/** A decision on the call a session waits on, as the run it starts carries it (issue 15). */
export interface ApprovalResume {
  approvalId: string;
  decision: "approve" | "deny";
  timedOut?: boolean | undefined;
  reason?: string | undefined;
  /** Who decided (the request's actor); recorded with the decision. */
  decidedBy: RunActor;
}

/** The idempotency key of the run a decision starts: a repeated decision, on any gateway, joins it. */
export const approvalIdempotencyKey = (approvalId: string) => `approval:${approvalId}`;

/** The approval a session waits on, checked against the one a decision names; throws approval_not_found / approval_not_pending. */
export function pendingFor(transcript: Transcript, approvalId: string): PendingApproval {
  const pending = transcript.pendingApproval;
  if (pending?.approvalId === approvalId) return pending;
  const known = transcript.approvals.get(approvalId);
  if (!known) throw new AppError("approval_not_found", `session "${transcript.header.key}" has no approval "${approvalId}"`);
  const decided = known.decision;
  if (decided) {
    const how = decided.timedOut ? "denied when nobody decided in time" : decided.decision === "approve" ? "approved" : "denied";
    throw new AppError("approval_not_pending", `approval "${approvalId}" was already ${how} (run ${decided.runId})`);
  }
  throw new AppError("approval_not_pending", `approval "${approvalId}" is no longer the one session "${transcript.header.key}" waits on`);
}

/** What the paused call's result records of its decision. */
export function decisionOf(resume: ApprovalResume): ApprovalDecision {
  return {
    approvalId: resume.approvalId,
    decision: resume.decision,
    ...(resume.timedOut ? { timedOut: true } : {}),
    ...(resume.reason ? { reason: resume.reason } : {}),
    decidedBy: resume.decidedBy,
  };
}

/** The line that settles the approval, written by the run the decision started. */
export function decisionLine(resume: ApprovalResume, pending: PendingApproval, runId: string, id: string, at: string): ApprovalDecisionLine {
  return { type: "approval-decision", id, timestamp: at, runId, toolCallId: pending.toolCallId, ...decisionOf(resume) };
}

/** A message sent to a session that waits on an approval: it would follow a call nobody answered. */
export function approvalPendingError(agent: string, sessionKey: string, pending: Pick<PendingApproval, "approvalId" | "name">): AppError {
  return new AppError(
    "approval_pending",
    `session "${sessionKey}" is waiting for approval "${pending.approvalId}" of a ${pending.name} call; approve or deny it first ` +
      `(POST /v1/agents/${agent}/sessions/${sessionKey}/approvals/${pending.approvalId}), then send the message again`,
  );
}

/**
 * The calls left of the step that paused: the paused one first, then the later calls of the same
 * model turn that have no result yet. Empty when the turn is not in the transcript any more
 * (nothing to carry out; the run goes on to the model).
 */
export function remainingCalls(entries: readonly TranscriptEntry[], pending: PendingApproval): ToolCall[] {
  const turn = entries.findLast((entry) => entry.type === "assistant" && entry.content.some((block) => block.type === "tool-call" && block.toolCallId === pending.toolCallId));
  if (turn?.type !== "assistant") return [];
  const answered = new Set(entries.flatMap((entry) => (entry.type === "tool-result" ? [entry.toolCallId] : [])));
  const calls = turn.content.filter((block): block is ToolCall => block.type === "tool-call");
  const from = calls.findIndex((call) => call.toolCallId === pending.toolCallId);
  return calls.slice(from).filter((call, index) => index === 0 || !answered.has(call.toolCallId));
}
