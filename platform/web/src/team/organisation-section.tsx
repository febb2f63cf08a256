import { useId, useState, type FormEvent } from "react";
import { toErrorDetail } from "../api/api-error";
import type { Tenant } from "../api/platform-schemas";
import { navigate } from "../router";
import { useServices } from "../services";
import { CreateOrganisationForm } from "../tenants/create-organisation-form";
import { loadWorkspace } from "../tenants/load-workspace";
import { canManage, type Workspace } from "../tenants/tenant-store";
import { ErrorMessage } from "../ui/error-message";

/** Rename the organisation (owners/admins) and create another one (where the sign-up policy allows). */
export function OrganisationSection({ tenant, workspace }: { tenant: Tenant | undefined; workspace: Workspace }) {
  const services = useServices();
  const [name, setName] = useState(tenant?.name ?? "");
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();
  const id = useId();

  async function rename(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      await services.api.renameTenant(name.trim());
      await loadWorkspace(services, workspace.user, { quiet: true });
      setSaved(true);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card section" aria-labelledby="organisation-title">
      <h2 id="organisation-title">Organisation</h2>
      {canManage(tenant?.role) ? (
        <form className="inline-form" onSubmit={(event) => void rename(event)} noValidate aria-label="Rename organisation">
          <div className="field grow">
            <label htmlFor={id}>Organisation name</label>
            <input id={id} value={name} maxLength={100} onChange={(event) => setName(event.target.value)} />
          </div>
          <button type="submit" className="button" disabled={busy || name.trim() === "" || name.trim() === tenant?.name}>
            Rename
          </button>
          {saved ? (
            <span className="small muted" role="status">
              Saved.
            </span>
          ) : null}
          <ErrorMessage error={error} />
        </form>
      ) : null}
      {workspace.canCreateOrganisation ? (
        <CreateOrganisationForm
          onCreated={(created) => {
            void loadWorkspace(services, workspace.user, { quiet: true }).then(() => {
              services.tenants.select(created.id);
              navigate("/");
            });
          }}
        />
      ) : (
        <p className="muted small">New organisations on this installation are created by its operator; ask them if you need another one.</p>
      )}
    </section>
  );
}
