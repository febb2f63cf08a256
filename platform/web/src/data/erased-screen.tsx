import { useState } from "react";
import { formatNumber } from "../usage/format";
import { Link } from "../ui/link";
import { readReceipt } from "./erasure-receipt";

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "long", timeStyle: "short" });

/** The final receipt of a deleted organisation: what went, and when. */
export function ErasedScreen() {
  const [receipt] = useState(readReceipt);
  return (
    <main className="page narrow" id="main" tabIndex={-1}>
      <h1>Organisation deleted</h1>
      {receipt ? (
        <section className="card section" aria-label="Receipt" data-testid="erasure-receipt">
          <p>
            <strong>{receipt.organisation}</strong> and all its data were deleted on {when.format(new Date(receipt.erasedAt))}.
          </p>
          <ul className="receipt-list">
            <li>
              {receipt.agents === 1 ? "1 agent" : `${formatNumber(receipt.agents)} agents`}, with all their chats
              {receipt.gatewayData === "tenant" ? " and every file they kept" : " and their workspaces"}
            </li>
            <li>
              {receipt.members === 1 ? "1 membership" : `${formatNumber(receipt.members)} memberships`}: the people keep their accounts and other organisations
            </li>
            <li>Invitations, API keys, usage records, the budget and the audit log</li>
            <li>Integrations, their secrets, and webhooks with their delivery log</li>
          </ul>
          <p className="muted small">
            Organisation id <code>{receipt.tenantId}</code>. Keep this page's details if you need proof of the deletion.
          </p>
        </section>
      ) : (
        <p className="muted">There is no deletion to show in this tab.</p>
      )}
      <p>
        <Link to="/">Continue</Link>
      </p>
    </main>
  );
}
