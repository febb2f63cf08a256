import { useId, useState, type FormEvent } from "react";
import { toErrorDetail } from "../api/api-error";
import type { Tenant } from "../api/platform-schemas";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";

/** Creates an organisation (the caller becomes its owner) and hands it back. */
export function CreateOrganisationForm({ onCreated, submitLabel = "Create organisation" }: { onCreated: (tenant: Tenant) => void; submitLabel?: string }) {
  const { api } = useServices();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();
  const id = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const tenant = await api.createTenant(name.trim());
      setName("");
      onCreated(tenant);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="inline-form" onSubmit={(event) => void submit(event)} noValidate>
      <div className="field grow">
        <label htmlFor={id}>New organisation name</label>
        <input id={id} value={name} maxLength={100} onChange={(event) => setName(event.target.value)} />
      </div>
      <button type="submit" className="button" disabled={busy}>
        {submitLabel}
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}
