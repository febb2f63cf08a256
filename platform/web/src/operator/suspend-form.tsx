import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import type { OperatorTenant } from "../api/platform-schemas";

/**
 * "Suspend…": the reason its members will read, then the confirmation. Focus goes to the reason
 * when it opens (it sits under the table, which may be scrolled on a phone); Escape cancels.
 */
export function SuspendForm(props: { tenant: OperatorTenant; busy: boolean; onConfirm: (reason: string | undefined) => void; onCancel: () => void }) {
  const [reason, setReason] = useState("");
  const field = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  useEffect(() => {
    field.current?.focus();
  }, []);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    props.onConfirm(reason.trim() === "" ? undefined : reason.trim());
  }

  return (
    <form
      className="confirm suspend-form"
      onSubmit={submit}
      noValidate
      aria-label={`Suspend ${props.tenant.name}`}
      onKeyDown={(event) => {
        if (event.key === "Escape") props.onCancel();
      }}
    >
      <p>
        Suspend <strong>{props.tenant.name}</strong>? Its {props.tenant.members === 1 ? "member" : `${props.tenant.members} members`} can then only export its data or
        leave it, until you lift the suspension.
      </p>
      <div className="field">
        <label htmlFor={id}>Reason (shown to its members)</label>
        <textarea id={id} ref={field} rows={2} maxLength={500} value={reason} onChange={(event) => setReason(event.target.value)} />
      </div>
      <div className="button-row">
        <button type="submit" className="button danger small" disabled={props.busy} aria-busy={props.busy}>
          Confirm suspension
        </button>
        <button type="button" className="button ghost small" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
