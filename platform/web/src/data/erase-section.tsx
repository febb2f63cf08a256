import { useId, useState, type FormEvent } from "react";
import type { Tenant } from "../api/platform-schemas";
import { navigate } from "../router";
import { useServices } from "../services";
import { loadWorkspace } from "../tenants/load-workspace";
import type { Workspace } from "../tenants/tenant-store";
import { ErrorMessage } from "../ui/error-message";
import { useAction } from "../ui/use-action";
import { keepReceipt } from "./erasure-receipt";

/**
 * Deleting the organisation (owners only): nothing happens until its exact name is typed, and the
 * answer is a receipt of what was deleted, shown on its own screen since the organisation is gone.
 */
export function EraseSection({ tenant, workspace }: { tenant: Tenant; workspace: Workspace }) {
  const services = useServices();
  const [typed, setTyped] = useState("");
  const { busy, error, act } = useAction();
  const id = useId();
  const matches = typed === tenant.name;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!matches) return;
    void act(async () => {
      const receipt = await services.api.governance.eraseTenant(typed);
      keepReceipt(receipt);
      navigate("/erased", { replace: true });
      services.chat.reset();
      await loadWorkspace(services, workspace.user, { quiet: true });
    });
  }

  if (tenant.role !== "owner") {
    return (
      <section className="card section danger-zone" aria-labelledby="erase-title">
        <h2 id="erase-title">Delete the organisation</h2>
        <p className="notice" role="note">
          Only owners can delete the organisation and all its data.
        </p>
      </section>
    );
  }
  return (
    <section className="card section danger-zone" aria-labelledby="erase-title">
      <h2 id="erase-title">Delete the organisation</h2>
      <p>
        Deletes <strong>{tenant.name}</strong> for good: every agent with its chats and workspace files, members' access, invitations, API keys, usage, the budget, the
        audit log, integrations and webhooks. The people keep their accounts and their other organisations. This cannot be undone: download an export first if
        you may need anything.
      </p>
      <form onSubmit={submit} noValidate aria-label="Delete the organisation">
        <div className="field">
          <label htmlFor={`${id}-confirm`}>
            Type <strong className="confirm-name">{tenant.name}</strong> to confirm
          </label>
          <input id={`${id}-confirm`} autoComplete="off" spellCheck={false} value={typed} onChange={(event) => setTyped(event.target.value)} aria-describedby={`${id}-hint`} />
          <p className="hint" id={`${id}-hint`}>
            {typed === "" || matches ? "The name exactly as it is written, capitals included." : "That is not the organisation's name yet."}
          </p>
        </div>
        <button type="submit" className="button danger" disabled={!matches || busy} aria-busy={busy}>
          {busy ? "Deleting…" : "Delete this organisation"}
        </button>
        <ErrorMessage error={error} />
      </form>
    </section>
  );
}
