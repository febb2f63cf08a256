import { ErrorMessage } from "../ui/error-message";
import { ApprovalCard } from "../approvals/approval-card";
import { useApprovals } from "../approvals/use-approvals";

/**
 * The Work tab's section of one agent's tool calls waiting for a decision (live), each with
 * **Approve** and **Deny**; the organisation's inbox (/approvals) has them all and the history.
 */
export function PendingApprovals({ tenantId, agent }: { tenantId: string; agent: string }) {
  const { approvals, error } = useApprovals(tenantId, "pending", agent);
  return (
    <section className="card section" aria-labelledby={`pending-approvals-${agent}`} data-testid="pending-approvals" data-agent={agent}>
      <h2 id={`pending-approvals-${agent}`}>Pending approvals</h2>
      <ErrorMessage error={error} />
      {!approvals ? (
        error ? null : (
          <p className="muted small" role="status">
            Loading…
          </p>
        )
      ) : approvals.length === 0 ? (
        <p className="muted small">No tool call of this agent is waiting for a decision.</p>
      ) : (
        approvals.map((approval) => <ApprovalCard key={approval.id} approval={approval} showAgent={false} />)
      )}
    </section>
  );
}
