import { useState } from "react";
import { toErrorDetail } from "../api/api-error";
import type { ApiKey } from "../api/platform-schemas";
import { useServices } from "../services";
import { ConfirmGroup } from "../ui/confirm-group";
import { ErrorMessage } from "../ui/error-message";
import { relativeTime } from "../ui/relative-time";

/** One key: name, prefix, scopes, created and last-used times, Revoke with confirmation. */
export function KeyRow({ apiKey, onRevoked }: { apiKey: ApiKey; onRevoked: (revokedAt: string) => void }) {
  const { api } = useServices();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();

  async function revoke() {
    setBusy(true);
    setError(undefined);
    try {
      await api.revokeKey(apiKey.id);
      onRevoked(new Date().toISOString());
    } catch (thrown) {
      setError(toErrorDetail(thrown));
      setBusy(false);
    }
  }

  return (
    <li className={`row${apiKey.revokedAt ? " revoked" : ""}`} data-testid="key-row" data-key-name={apiKey.name}>
      <div className="row-main">
        <span className="row-title">
          {apiKey.name} <code className="muted small">{apiKey.prefix}…</code>
        </span>
        <span className="muted small">
          Created <time dateTime={apiKey.createdAt}>{relativeTime(apiKey.createdAt)}</time> · Last used{" "}
          {apiKey.lastUsedAt ? <time dateTime={apiKey.lastUsedAt}>{relativeTime(apiKey.lastUsedAt)}</time> : "never"}
          {apiKey.revokedAt ? (
            <>
              {" "}
              · Revoked <time dateTime={apiKey.revokedAt}>{relativeTime(apiKey.revokedAt)}</time>
            </>
          ) : null}
        </span>
        <span className="scope-list" aria-label="Scopes">
          {apiKey.scopes.map((scope) => (
            <code key={scope} className="badge">
              {scope}
            </code>
          ))}
        </span>
      </div>
      {!apiKey.revokedAt ? (
        <div className="row-actions">
          <button
            type="button"
            className="button ghost small danger-text"
            onClick={() => setConfirming(true)}
            aria-label={`Revoke ${apiKey.name}`}
            aria-expanded={confirming}
          >
            Revoke
          </button>
        </div>
      ) : null}
      {confirming && !apiKey.revokedAt ? (
        <ConfirmGroup
          label={`Revoke ${apiKey.name}?`}
          confirmLabel="Confirm revoke"
          busy={busy}
          onConfirm={() => void revoke()}
          onCancel={() => setConfirming(false)}
        >
          Revoke “{apiKey.name}”? Anything using it gets 401 from now on. This cannot be undone.
        </ConfirmGroup>
      ) : null}
      <ErrorMessage error={error} />
    </li>
  );
}
