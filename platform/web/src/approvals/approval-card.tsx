import type { ApprovalView } from "@workforce/protocol";
import { useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { chatPath } from "../router";
import { useServices } from "../services";
import { isMine, ownerLabel } from "../sessions/sessions-sidebar";
import { useAccess } from "../tenants/use-access";
import { ErrorMessage } from "../ui/error-message";
import { Link } from "../ui/link";
import { relativeTime } from "../ui/relative-time";
import { ApprovalArguments } from "./approval-arguments";
import { DecisionForm } from "./decision-form";

const STATUS_TEXT: Record<ApprovalView["status"], string> = { pending: "Waiting", approved: "Approved", denied: "Denied", expired: "Expired" };
const STATUS_BADGE: Record<ApprovalView["status"], string> = { pending: "badge-warning", approved: "badge-ok", denied: "badge-danger", expired: "badge-danger" };

/** "in 54 min", "in 2 h", or "now" for an expiry. */
export function timeLeft(iso: string, now = Date.now()): string {
  const minutes = Math.round((Date.parse(iso) - now) / 60_000);
  if (minutes <= 0) return "now";
  if (minutes < 90) return `in ${minutes} min`;
  return `in ${Math.round(minutes / 60)} h`;
}

/**
 * One tool call waiting for a decision (or decided): which agent and chat, the tool, its
 * arguments, when it was asked and when it expires; **Approve** and **Deny** with an optional
 * reason (the model reads it with a denial). The inbox, the Work tab and the chat show it.
 */
export function ApprovalCard({ approval, showAgent = true, onDecided }: { approval: ApprovalView; showAgent?: boolean; onDecided?: (approval: ApprovalView) => void }) {
  const { api, approvals } = useServices();
  const { userId } = useAccess();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();
  const pending = approval.status === "pending";

  async function decide(decision: "approve" | "deny", reason: string | undefined) {
    setBusy(true);
    setError(undefined);
    try {
      const decided = await api.approvals[decision](approval.id, reason);
      approvals.touched();
      onDecided?.(decided);
    } catch (thrown) {
      const detail = toErrorDetail(thrown);
      setError(detail);
      // Someone (or the timeout) was first: show what it became.
      if (detail.code === "approval_already_decided") approvals.touched();
    } finally {
      setBusy(false);
    }
  }

  return (
    <article className="approval-card" data-testid="approval-card" data-approval-id={approval.id} data-status={approval.status} aria-label={`${approval.tool} call by ${approval.agent}`}>
      <header className="approval-head">
        <span className={`badge ${STATUS_BADGE[approval.status]}`}>{STATUS_TEXT[approval.status]}</span>
        <code className="tool-name">{approval.tool}</code>
        {showAgent ? (
          <span>
            by <Link to={chatPath(approval.agent, approval.sessionKey)}>{approval.agent}</Link>
          </span>
        ) : null}
        <span className="muted small">{isMine(approval.sessionOwner, userId) ? "in your chat" : approval.sessionOwner.type === "none" ? "in a chat nobody owns" : `in the chat of ${ownerLabel(approval.sessionOwner)}`}</span>
        <span className="muted small" title={approval.requestedAt}>
          asked {relativeTime(approval.requestedAt)}
        </span>
        {pending ? (
          <span className="muted small" title={approval.expiresAt} data-testid="approval-expiry">
            denied {timeLeft(approval.expiresAt)} unless decided
          </span>
        ) : null}
      </header>
      <ApprovalArguments input={approval.input} truncated={approval.inputTruncated} />
      {pending ? (
        <DecisionForm busy={busy} onDecide={(decision, reason) => void decide(decision, reason)} />
      ) : (
        <p className="small approval-outcome" data-testid="approval-outcome">
          {approval.status === "expired" ? "Nobody decided in time" : `${STATUS_TEXT[approval.status]} by ${approval.decidedBy?.label ?? "someone no longer here"}`}
          {approval.decidedAt ? ` ${relativeTime(approval.decidedAt)}` : ""}
          {approval.reason && approval.status !== "expired" ? `: “${approval.reason}”` : ""}
          {approval.resume.error ? <span className="muted"> · the agent could not carry on yet ({approval.resume.error})</span> : null}
        </p>
      )}
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
    </article>
  );
}
