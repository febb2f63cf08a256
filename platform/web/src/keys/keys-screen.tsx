import { useEffect, useState, useSyncExternalStore } from "react";
import { toErrorDetail } from "../api/api-error";
import type { ApiKey, CreatedApiKey } from "../api/platform-schemas";
import { useServices } from "../services";
import { canManage, currentRole } from "../tenants/tenant-store";
import { ErrorMessage } from "../ui/error-message";
import { CreateKeyForm } from "./create-key-form";
import { KeyRow } from "./key-row";
import { SecretReveal } from "./secret-reveal";

/** API keys of the selected organisation: create (the secret is shown once), list with last use, revoke. Owners/admins only. */
export function KeysScreen({ tenantId }: { tenantId: string }) {
  const { api, tenants, config } = useServices();
  const role = currentRole(useSyncExternalStore(tenants.subscribe, tenants.getState));
  const admin = canManage(role);
  const [keys, setKeys] = useState<ApiKey[]>();
  const [created, setCreated] = useState<CreatedApiKey>();
  const [error, setError] = useState<{ code: string; message: string }>();
  const [showRevoked, setShowRevoked] = useState(false);

  useEffect(() => {
    if (!admin) return;
    let current = true;
    api.listKeys().then(
      (list) => current && setKeys(list),
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, tenantId, admin]);

  const active = keys?.filter((key) => !key.revokedAt) ?? [];
  const revoked = keys?.filter((key) => key.revokedAt) ?? [];
  const apiBase = new URL(config.apiUrl, window.location.origin).href.replace(/\/+$/, "");

  return (
    <main className="page" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>API keys</h1>
          <p className="muted">
            Keys let scripts and other services use this organisation's agents. Send one as <code>Authorization: Bearer &lt;key&gt;</code> to the
            API at <code>{apiBase}</code>
          </p>
        </div>
      </div>
      {!admin ? (
        <p className="notice" role="note">
          Only owners and admins can see and manage API keys. Ask one of them for a key.
        </p>
      ) : (
        <>
          <section className="card section" aria-labelledby="new-key-title">
            <h2 id="new-key-title">New key</h2>
            <CreateKeyForm
              onCreated={(result) => {
                setCreated(result);
                setKeys((list) => [result.key, ...(list ?? [])]);
              }}
            />
            {created ? <SecretReveal created={created} onDone={() => setCreated(undefined)} /> : null}
          </section>
          <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
          <section className="card section" aria-labelledby="keys-title">
            <h2 id="keys-title">Active keys{keys ? ` (${active.length})` : ""}</h2>
            {keys === undefined && !error ? (
              <p className="muted" role="status">
                Loading keys…
              </p>
            ) : active.length === 0 ? (
              <p className="muted">No active keys.</p>
            ) : (
              <ul className="row-list" aria-label="Active API keys">
                {active.map((key) => (
                  <KeyRow
                    key={key.id}
                    apiKey={key}
                    onRevoked={(revokedAt) => {
                      setKeys((list) => list?.map((other) => (other.id === key.id ? { ...other, revokedAt } : other)));
                      if (created?.key.id === key.id) setCreated(undefined);
                    }}
                  />
                ))}
              </ul>
            )}
            {revoked.length > 0 ? (
              <>
                <button type="button" className="button ghost small" aria-expanded={showRevoked} onClick={() => setShowRevoked((open) => !open)}>
                  {showRevoked ? "Hide" : "Show"} revoked keys ({revoked.length})
                </button>
                {showRevoked ? (
                  <ul className="row-list" aria-label="Revoked API keys">
                    {revoked.map((key) => (
                      <KeyRow key={key.id} apiKey={key} onRevoked={() => undefined} />
                    ))}
                  </ul>
                ) : null}
              </>
            ) : null}
          </section>
        </>
      )}
    </main>
  );
}
