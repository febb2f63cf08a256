import type { AuditEntry } from "../api/governance-api";
import { actionLabel } from "./audit-actions";

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function actorText(entry: AuditEntry): string {
  if (entry.actor.type === "api-key") return `API key ${entry.actor.id?.slice(0, 8) ?? ""}`.trim();
  if (entry.actor.email) return entry.actor.email;
  // A failed sign-in has no actor; anyone else is no longer in the organisation.
  return entry.actor.id ? "A former member" : "—";
}

function detailText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}

/** The entries as a table: when, who, what, on what, and the details the platform recorded. */
export function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Audit log entries">
      <table className="data-table audit-table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id} data-testid="audit-entry" data-action={entry.action}>
              <td>
                <time dateTime={entry.createdAt}>{when.format(new Date(entry.createdAt))}</time>
              </td>
              <td className="audit-actor">{actorText(entry)}</td>
              <td>
                {actionLabel(entry.action)}
                <code className="muted small audit-code">{entry.action}</code>
              </td>
              <td className="audit-target" title={entry.target}>
                {entry.target}
              </td>
              <td className="audit-details">{detailText(entry.details)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
