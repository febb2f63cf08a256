import { useState } from "react";
import { ErrorMessage } from "../ui/error-message";
import { ApprovalCard } from "./approval-card";
import { useApprovals } from "./use-approvals";

type Tab = "pending" | "decided";

/**
 * The organisation's tool calls waiting for a decision (the user's own chats', or everyone's for
 * owners and admins), live, and the decided ones in a history tab.
 */
export function ApprovalsScreen({ tenantId }: { tenantId: string }) {
  const [tab, setTab] = useState<Tab>("pending");
  const { approvals, error, pending } = useApprovals(tenantId, tab);
  return (
    <main className="page" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>Approvals</h1>
          <p className="muted">Tool calls your agents may only make with a person&apos;s approval. Approve one and the agent carries on with it; deny it and the agent is told why.</p>
        </div>
      </div>
      <div className="tabs" role="tablist" aria-label="Approvals">
        <button type="button" role="tab" className="tab" aria-selected={tab === "pending"} onClick={() => setTab("pending")}>
          Waiting{pending ? ` (${pending})` : ""}
        </button>
        <button type="button" role="tab" className="tab" aria-selected={tab === "decided"} onClick={() => setTab("decided")}>
          History
        </button>
      </div>
      <ErrorMessage error={error} />
      <section role="tabpanel" aria-label={tab === "pending" ? "Waiting" : "History"} className="approval-list" data-testid="approval-list">
        {!approvals ? (
          error ? null : (
            <p className="muted" role="status">
              Loading…
            </p>
          )
        ) : approvals.length === 0 ? (
          <p className="muted" data-testid="approvals-empty">
            {tab === "pending" ? "Nothing is waiting for a decision." : "No decisions yet."}
          </p>
        ) : (
          approvals.map((approval) => <ApprovalCard key={approval.id} approval={approval} />)
        )}
      </section>
    </main>
  );
}
