import { useId, useState, type FormEvent } from "react";
import { toErrorDetail } from "../api/api-error";
import { SCOPES, type CreatedApiKey, type Scope } from "../api/platform-schemas";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";

const SCOPE_HINTS: Record<Scope, string> = {
  "agents:read": "list and read agents",
  "agents:write": "create, edit and delete agents",
  "sessions:read": "read and export chats",
  "sessions:write": "rename and delete chats",
  chat: "send messages and follow replies",
  "usage:read": "read token usage",
};

/** Name and scopes of a new key. */
export function CreateKeyForm({ onCreated }: { onCreated: (created: CreatedApiKey) => void }) {
  const { api } = useServices();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>([...SCOPES]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();
  const id = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onCreated(await api.createKey(name.trim(), scopes));
      setName("");
      setScopes([...SCOPES]);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }

  function toggle(scope: Scope, on: boolean) {
    setScopes((current) => (on ? SCOPES.filter((other) => other === scope || current.includes(other)) : current.filter((other) => other !== scope)));
  }

  return (
    <form className="form" onSubmit={(event) => void submit(event)} noValidate aria-label="Create an API key">
      <div className="field">
        <label htmlFor={`${id}-name`}>Key name</label>
        <input
          id={`${id}-name`}
          value={name}
          maxLength={100}
          placeholder="e.g. CI bot"
          aria-describedby={`${id}-name-hint`}
          onChange={(event) => setName(event.target.value)}
        />
        <p className="hint" id={`${id}-name-hint`}>
          A name that tells you later where the key is used.
        </p>
      </div>
      <fieldset className="scopes">
        <legend>Scopes</legend>
        {SCOPES.map((scope) => (
          <label key={scope} className="checkbox">
            <input type="checkbox" checked={scopes.includes(scope)} onChange={(event) => toggle(scope, event.target.checked)} />
            <code>{scope}</code> <span className="muted small">{SCOPE_HINTS[scope]}</span>
          </label>
        ))}
      </fieldset>
      <ErrorMessage error={error} />
      <div className="button-row">
        <button type="submit" className="button primary" disabled={busy}>
          Create key
        </button>
        {scopes.length === 0 ? <span className="small muted">Pick at least one scope.</span> : null}
      </div>
    </form>
  );
}
