import { AppError, ApprovalDecisionInput, describeZodError, type RunOrigin } from "@workforce/protocol";
import { z } from "zod";
import type { AgentStore } from "../agents/agent-store";
import type { SessionStore } from "../sessions/session-store";
import { pendingFor } from "./approval-resume";
import type { SubmitRun } from "./run-forwarding";
import type { RunManager, SubmittedRun } from "./run-manager";

/** Approval ids are the gateway's UUIDs; anything reasonable is looked up (and found or not). */
export const ApprovalId = z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, "must be an approval id");

export interface ApprovalDecisionDeps {
  agents: Pick<AgentStore, "get">;
  sessions: Pick<SessionStore, "get" | "readTranscript">;
  runs: Pick<RunManager, "locate">;
  /** Starts the decision's run here, or at the gateway holding the session (run-forwarding). */
  submitRun: SubmitRun;
}

export interface ApprovalDecisionRequest {
  agent: string;
  sessionKey: string;
  approvalId: string;
  input: ApprovalDecisionInput;
  /** Who decides (the actor headers, or the WebSocket frame's actor) and by which entry point. */
  origin: RunOrigin;
  /** Another gateway forwarded it here: run it here. */
  forwarded?: boolean;
}

/** Validates a decision that did not come through the HTTP body parser (WebSocket frames). */
export function parseDecision(value: unknown): ApprovalDecisionInput {
  const parsed = ApprovalDecisionInput.safeParse(value);
  if (!parsed.success) throw new AppError("validation_failed", describeZodError(parsed.error, "params"));
  return parsed.data;
}

/**
 * A decision on the call a session waits on (issue 15): starts the run that carries it out, through
 * the same submit path as a message (queue, admission, fair scheduler, session lease, forwarding).
 * Idempotent: a repeat while that run is known (here or through the relay) answers it; the session's
 * transcript says whether an approval is pending, decided (409 approval_not_pending) or unknown
 * (404 approval_not_found). The run checks again under the session's lease before it acts.
 */
export async function decideApproval(deps: ApprovalDecisionDeps, tenantId: string, request: ApprovalDecisionRequest): Promise<SubmittedRun> {
  const ref = { tenantId, agent: request.agent };
  await deps.agents.get(tenantId, request.agent);
  const session = await deps.sessions.get(ref, request.sessionKey);
  const transcript = await deps.sessions.readTranscript(ref, session.sessionId);
  const decided = transcript.approvals.get(request.approvalId)?.decision;
  if (decided) {
    const run = await deps.runs.locate(tenantId, decided.runId).catch((error: unknown) => {
      if (error instanceof AppError && error.code === "run_not_found") return undefined;
      throw error;
    });
    if (run) return { runId: decided.runId, sessionKey: session.key, info: () => run.info(), events: run.events, abort: () => run.abort() };
  }
  pendingFor(transcript, request.approvalId);
  const { decision, reason, timedOut, integrations, trigger } = request.input;
  const { userId, apiKeyId } = request.origin;
  return deps.submitRun(
    tenantId,
    request.agent,
    {
      sessionKey: session.key,
      resume: {
        approvalId: request.approvalId,
        decision,
        ...(timedOut ? { timedOut } : {}),
        ...(reason ? { reason } : {}),
        decidedBy: { ...(userId ? { userId } : {}), ...(apiKeyId ? { apiKeyId } : {}) },
      },
      integrations,
      ...(trigger ? { trigger } : {}),
    },
    request.origin,
    { forwarded: request.forwarded ?? false },
  );
}
