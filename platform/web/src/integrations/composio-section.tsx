import type { ComposioConnectionView, ComposioOverview, ComposioToolkitView } from "@workforce/protocol";
import { useEffect, useState, useSyncExternalStore } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { canManage, currentRole } from "../tenants/tenant-store";
import { ConfirmGroup } from "../ui/confirm-group";
import { ErrorMessage } from "../ui/error-message";

type Problem = { code: string; message: string } | undefined;

const STATUS_BADGE: Record<ComposioConnectionView["status"], string> = { active: "badge-ok", pending: "badge-warning", failed: "badge-danger", expired: "badge-danger", inactive: "badge-danger" };
const RETURN_NOTICE: Record<string, string> = {
  connected: "The app is connected. Choose on an agent's page which of its tools the agent may use.",
  pending: "Composio has not confirmed the connection yet; its status updates here once it has.",
  failed: "The app was not connected (the sign-in was cancelled, failed or expired). Try again.",
};

/**
 * Apps of the organisation through Composio (issue 14): connected ones with their status and
 * Disconnect, and Composio's toolkits to connect (owners and admins; the browser goes to
 * Composio's hosted sign-in and comes back here). Hidden when the installation has no Composio key.
 */
export function ComposioSection({ tenantId }: { tenantId: string }) {
  const { api, tenants } = useServices();
  const admin = canManage(currentRole(useSyncExternalStore(tenants.subscribe, tenants.getState)));
  const [overview, setOverview] = useState<ComposioOverview>();
  const [toolkits, setToolkits] = useState<ComposioToolkitView[]>();
  const [search, setSearch] = useState("");
  const [error, setError] = useState<Problem>();
  const [reload, setReload] = useState(0);
  const returned = new URLSearchParams(window.location.search).get("composio");

  useEffect(() => {
    let current = true;
    api.composio.overview().then(
      (answer) => current && setOverview(answer),
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, tenantId, reload]);

  useEffect(() => {
    if (!overview?.configured || !admin) return;
    let current = true;
    const timer = setTimeout(() => {
      api.composio.toolkits(search.trim().length >= 3 ? search.trim() : undefined).then(
        (list) => current && setToolkits(list),
        (thrown: unknown) => current && setError(toErrorDetail(thrown)),
      );
    }, 250);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, overview?.configured, admin, search]);

  if (overview?.configured === false) return null;
  const connections = overview?.configured ? overview.connections : [];
  const connected = new Set(connections.map((connection) => connection.toolkit));

  async function connect(toolkit: string) {
    setError(undefined);
    try {
      const started = await api.composio.connect(toolkit);
      window.location.assign(started.redirectUrl);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    }
  }

  return (
    <section className="card section" aria-labelledby="composio-section-title" data-testid="composio-section">
      <h2 id="composio-section-title">Apps (Composio)</h2>
      <p className="muted">Apps such as GitHub or Gmail, connected once for the organisation through Composio. Agents use only the apps chosen for them.</p>
      {returned && RETURN_NOTICE[returned] ? (
        <p className="notice" role="status" data-testid="composio-return">
          {RETURN_NOTICE[returned]}
        </p>
      ) : null}
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {overview === undefined && !error ? (
        <p className="muted" role="status">
          Loading apps…
        </p>
      ) : connections.length === 0 ? (
        <p className="muted">No apps connected yet.</p>
      ) : (
        <ul className="row-list" aria-label="Connected apps">
          {connections.map((connection) => (
            <ConnectionRow key={connection.id} connection={connection} admin={admin} onChanged={() => setReload((count) => count + 1)} />
          ))}
        </ul>
      )}
      {admin ? (
        <>
          <h3>Connect an app</h3>
          <label className="field">
            <span>Search Composio&apos;s apps</span>
            <input type="search" value={search} onChange={(event) => setSearch(event.target.value)} placeholder="github, slack, notion…" />
          </label>
          {toolkits === undefined ? null : (
            <ul className="row-list" aria-label="Apps to connect">
              {toolkits
                .filter((toolkit) => !connected.has(toolkit.slug))
                .slice(0, 30)
                .map((toolkit) => (
                  <li className="row" key={toolkit.slug} data-testid="composio-toolkit" data-toolkit={toolkit.slug}>
                    <div className="row-main">
                      <span className="row-title">{toolkit.name}</span>
                      <span className="muted small">{toolkit.description}</span>
                    </div>
                    <div className="row-actions">
                      <button type="button" className="button small" onClick={() => void connect(toolkit.slug)} aria-label={`Connect ${toolkit.name}`}>
                        Connect
                      </button>
                    </div>
                  </li>
                ))}
            </ul>
          )}
        </>
      ) : (
        <p className="muted small">Owners and admins connect and disconnect apps.</p>
      )}
    </section>
  );
}

function ConnectionRow({ connection, admin, onChanged }: { connection: ComposioConnectionView; admin: boolean; onChanged: () => void }) {
  const { api } = useServices();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Problem>();

  async function disconnect() {
    setBusy(true);
    setError(undefined);
    try {
      await api.composio.disconnect(connection.id);
      onChanged();
    } catch (thrown) {
      setError(toErrorDetail(thrown));
      setBusy(false);
    }
  }

  return (
    <li className="row" data-testid="composio-connection" data-toolkit={connection.toolkit}>
      <div className="row-main">
        <span className="row-title">
          {connection.toolkit}{" "}
          <span className={`badge ${STATUS_BADGE[connection.status]}`} data-testid="composio-status">
            {connection.status}
          </span>
        </span>
        <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      </div>
      {admin ? (
        <div className="row-actions">
          {confirming ? (
            <ConfirmGroup label={`Disconnect ${connection.toolkit}`} confirmLabel="Disconnect" busy={busy} onConfirm={() => void disconnect()} onCancel={() => setConfirming(false)}>
              Agents lose this app&apos;s tools.
            </ConfirmGroup>
          ) : (
            <button type="button" className="button ghost small danger-text" onClick={() => setConfirming(true)} aria-label={`Disconnect ${connection.toolkit}`}>
              Disconnect
            </button>
          )}
        </div>
      ) : null}
    </li>
  );
}
