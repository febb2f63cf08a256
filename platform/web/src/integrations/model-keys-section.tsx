import { MODEL_KEY_PROVIDER_LABELS, type ModelKeyPolicy, type ModelKeyProvider, type ModelKeyView } from "@workforce/protocol";
import { useEffect, useId, useState, useSyncExternalStore, type FormEvent } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { canManage, currentRole } from "../tenants/tenant-store";
import { ErrorMessage } from "../ui/error-message";
import { ModelKeyStatus, PolicyNote } from "./model-key-status";

const LABELS: Record<ModelKeyProvider, { hint: string; placeholder: string }> = {
  anthropic: { hint: "Agents with a Claude model use it. The base URL is optional (Anthropic's API by default).", placeholder: "https://api.anthropic.com" },
  "openai-compatible": {
    hint: "Agents with an openai:<model> model use it: OpenAI, an Ollama or vLLM server, any Chat Completions endpoint.",
    placeholder: "https://api.openai.com/v1",
  },
};

type ErrorDetail = { code: string; message: string };

/**
 * The organisation's own model keys (issue 14): per provider, set or replace (the key is write-only:
 * after saving only its hint is shown), the base URL, and removal; and what the operator decided
 * about lending its own key. Members see which providers have a key; owners and admins change them.
 */
export function ModelKeysSection({ tenantId }: { tenantId: string }) {
  const { api, tenants } = useServices();
  const admin = canManage(currentRole(useSyncExternalStore(tenants.subscribe, tenants.getState)));
  const [keys, setKeys] = useState<ModelKeyView[]>();
  const [policy, setPolicy] = useState<ModelKeyPolicy>();
  const [error, setError] = useState<ErrorDetail>();

  useEffect(() => {
    let current = true;
    setError(undefined);
    api.listModelKeys().then(
      (answer) => {
        if (!current) return;
        setKeys(answer.keys);
        setPolicy(answer.policy);
      },
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, tenantId]);

  const replace = (next: ModelKeyView) => setKeys((list) => list?.map((key) => (key.provider === next.provider ? next : key)));

  return (
    <section className="card section" aria-labelledby="model-keys-section-title" data-testid="model-keys-section">
      <h2 id="model-keys-section-title">Model keys</h2>
      <p className="muted">Your organisation's own provider keys: runs of a provider you have a key for use it, and their usage is marked as yours.</p>
      {policy ? <PolicyNote policy={policy} /> : null}
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {keys === undefined && !error ? (
        <p className="muted" role="status">
          Loading model keys…
        </p>
      ) : null}
      {keys?.map((key) => <ProviderKey key={key.provider} view={key} admin={admin && policy?.available !== false} onChanged={replace} />)}
    </section>
  );
}


function ProviderKey({ view, admin, onChanged }: { view: ModelKeyView; admin: boolean; onChanged: (next: ModelKeyView) => void }) {
  const { api } = useServices();
  const id = useId();
  const label = LABELS[view.provider];
  const [editing, setEditing] = useState(false);
  const [apiKey, setApiKey] = useState("");
  const [baseUrl, setBaseUrl] = useState(view.baseUrl ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorDetail>();

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const saved = await api.setModelKey(view.provider, { apiKey, ...(baseUrl.trim() ? { baseUrl: baseUrl.trim() } : {}) });
      onChanged(saved);
      setApiKey("");
      setEditing(false);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api.deleteModelKey(view.provider);
      onChanged({ provider: view.provider, set: false, hint: null, baseUrl: null, updatedAt: null, updatedBy: null });
      setBaseUrl("");
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="section" data-testid="model-key" data-provider={view.provider}>
      <h3 id={`${id}-title`}>{MODEL_KEY_PROVIDER_LABELS[view.provider]}</h3>
      <p className="hint">{label.hint}</p>
      <ModelKeyStatus view={view} />
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {admin && !editing ? (
        <div className="button-row">
          <button type="button" className="button small" onClick={() => setEditing(true)} disabled={busy}>
            {view.set ? "Replace key" : "Add key"}
          </button>
          {view.set ? (
            <button type="button" className="button small danger" onClick={() => void remove()} disabled={busy} aria-busy={busy}>
              Remove key
            </button>
          ) : null}
        </div>
      ) : null}
      {admin && editing ? (
        <form className="form" onSubmit={(event) => void save(event)} aria-labelledby={`${id}-title`}>
          <div className="field">
            <label htmlFor={`${id}-key`}>API key</label>
            <input
              id={`${id}-key`}
              type="password"
              name="apiKey"
              autoComplete="off"
              required
              value={apiKey}
              onChange={(event) => setApiKey(event.target.value)}
              aria-describedby={`${id}-key-hint`}
            />
            <p className="hint" id={`${id}-key-hint`}>
              Never shown again after saving: only its last characters.
            </p>
          </div>
          <div className="field">
            <label htmlFor={`${id}-url`}>Base URL{view.provider === "anthropic" ? " (optional)" : ""}</label>
            <input
              id={`${id}-url`}
              type="url"
              name="baseUrl"
              placeholder={label.placeholder}
              required={view.provider === "openai-compatible"}
              value={baseUrl}
              onChange={(event) => setBaseUrl(event.target.value)}
            />
          </div>
          <div className="button-row">
            <button type="submit" className="button primary small" disabled={busy || apiKey.trim() === ""} aria-busy={busy}>
              Save key
            </button>
            <button type="button" className="button small" onClick={() => setEditing(false)} disabled={busy}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
    </div>
  );
}
