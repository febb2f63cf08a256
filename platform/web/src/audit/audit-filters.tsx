import { useId } from "react";
import type { Member } from "../api/platform-schemas";
import { AUDIT_NOUNS, actionLabel } from "./audit-actions";

/** What the person chose; dates are calendar days (`YYYY-MM-DD`) in their own time zone. */
export interface AuditFilterForm {
  action: string;
  actor: string;
  from: string;
  to: string;
}

export const NO_FILTER: AuditFilterForm = { action: "", actor: "", from: "", to: "" };

/** Local midnight of a `YYYY-MM-DD` day as an ISO instant; `nextDay` moves to the following midnight (an exclusive end). */
export function dayStart(day: string, nextDay = false): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + (nextDay ? 1 : 0));
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The filters above the audit log: action (or all of a noun), who acted, and a range of days. */
export function AuditFilters({ value, members, onChange }: { value: AuditFilterForm; members: Member[]; onChange: (next: AuditFilterForm) => void }) {
  const id = useId();
  const set = (patch: Partial<AuditFilterForm>) => onChange({ ...value, ...patch });
  const backwards = value.from !== "" && value.to !== "" && value.to < value.from;
  return (
    <form className="audit-filters" aria-label="Filter the audit log" onSubmit={(event) => event.preventDefault()}>
      <div className="field">
        <label htmlFor={`${id}-action`}>Action</label>
        <select id={`${id}-action`} value={value.action} onChange={(event) => set({ action: event.target.value })}>
          <option value="">All actions</option>
          {AUDIT_NOUNS.map((group) => (
            <optgroup key={group.noun} label={group.label}>
              <option value={`${group.noun}.`}>All: {group.label.toLowerCase()}</option>
              {group.actions.map((action) => (
                <option key={action} value={action}>
                  {actionLabel(action)}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-actor`}>Who</label>
        <select id={`${id}-actor`} value={value.actor} onChange={(event) => set({ actor: event.target.value })}>
          <option value="">Anyone</option>
          {members.map((member) => (
            <option key={member.userId} value={member.userId}>
              {member.email}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-from`}>From</label>
        <input id={`${id}-from`} type="date" value={value.from} max={value.to || undefined} onChange={(event) => set({ from: event.target.value })} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-to`}>To</label>
        <input id={`${id}-to`} type="date" value={value.to} min={value.from || undefined} onChange={(event) => set({ to: event.target.value })} />
      </div>
      {value.action || value.actor || value.from || value.to ? (
        <button type="button" className="button ghost small" onClick={() => onChange(NO_FILTER)}>
          Clear filters
        </button>
      ) : null}
      {backwards ? (
        <p className="field-error" role="alert">
          "To" is before "From": no day is in between.
        </p>
      ) : null}
    </form>
  );
}
