import { useId, useState } from "react";

/** An optional reason and **Approve** / **Deny**: the decision on a tool call, wherever it is shown. */
export function DecisionForm({ busy, onDecide }: { busy: boolean | undefined; onDecide: (decision: "approve" | "deny", reason: string | undefined) => void }) {
  const reasonId = useId();
  const [reason, setReason] = useState("");
  const decide = (decision: "approve" | "deny") => onDecide(decision, reason.trim() || undefined);
  return (
    <div className="approval-decide">
      <label className="field" htmlFor={reasonId}>
        <span>Reason (optional)</span>
        <input id={reasonId} value={reason} maxLength={2000} onChange={(event) => setReason(event.target.value)} placeholder="Told to the agent with a denial" />
      </label>
      <div className="button-row">
        <button type="button" className="button primary small" disabled={busy} onClick={() => decide("approve")}>
          Approve
        </button>
        <button type="button" className="button danger small" disabled={busy} onClick={() => decide("deny")}>
          Deny
        </button>
      </div>
    </div>
  );
}
