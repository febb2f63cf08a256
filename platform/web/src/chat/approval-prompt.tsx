import { ApprovalArguments } from "../approvals/approval-arguments";
import { DecisionForm } from "../approvals/decision-form";
import { ErrorMessage } from "../ui/error-message";
import type { PendingCall } from "./chat-types";

const OUTCOME: Record<NonNullable<PendingCall["outcome"]>["status"], string> = {
  approved: "Approved",
  denied: "Denied",
  expired: "Nobody decided in time: denied",
};

/**
 * The tool call a reply paused at (the `approval-required` event, or a session that waits on
 * one): the tool and its arguments, **Approve** and **Deny** with an optional reason; once
 * decided, how. The reply that carries on follows below it.
 */
export function ApprovalPrompt({ call, onDecide }: { call: PendingCall; onDecide: (decision: "approve" | "deny", reason: string | undefined) => void }) {
  const { outcome } = call;
  return (
    <div className="approval-card" data-testid="approval-prompt" data-approval-id={call.approvalId} data-status={outcome?.status ?? "pending"} role="group" aria-label={`Approve the ${call.name} call?`}>
      <div className="approval-head">
        <span className={`badge ${outcome ? (outcome.status === "approved" ? "badge-ok" : "badge-danger") : "badge-warning"}`}>{outcome ? OUTCOME[outcome.status] : "Needs your approval"}</span>
        <code className="tool-name">{call.name}</code>
        {outcome?.by && outcome.status !== "expired" ? <span className="muted small">by {outcome.by}</span> : null}
      </div>
      <ApprovalArguments input={call.input} truncated={false} />
      {outcome ? null : <DecisionForm busy={call.deciding} onDecide={onDecide} />}
      <ErrorMessage error={call.error} />
    </div>
  );
}
