import { useEffect, useState, useSyncExternalStore } from "react";
import { toErrorDetail } from "../api/api-error";
import { navigate } from "../router";
import { useServices } from "../services";
import { ConfirmGroup } from "../ui/confirm-group";
import { download } from "../ui/download";
import { ErrorMessage } from "../ui/error-message";
import { loadWorkspace } from "./load-workspace";
import { canManage, currentTenant, type Workspace } from "./tenant-store";

/**
 * The selected organisation is suspended by the installation's operator: says so with the
 * operator's reason (from the 403 `tenant_suspended` every other call answers), and offers what
 * still works: exporting its data (owners and admins) and leaving it. "Check again" re-reads
 * the organisations, so a lifted suspension shows without a reload.
 */
export function SuspensionBanner({ workspace }: { workspace: Workspace }) {
  const services = useServices();
  const { api, tenants } = services;
  const state = useSyncExternalStore(tenants.subscribe, tenants.getState);
  const tenant = currentTenant(state);
  const [leaving, setLeaving] = useState(false);
  const [busy, setBusy] = useState<"check" | "export" | "leave">();
  const [error, setError] = useState<{ code: string; message: string }>();
  const tenantId = tenant?.suspended ? tenant.id : undefined;
  // `/api/me` gives the reason; a platform that does not is asked through the 403 of an
  // organisation call (the API client records it), once.
  const known = tenantId !== undefined && (state.suspensions[tenantId] !== undefined || tenant?.suspendedReason !== undefined);

  useEffect(() => {
    if (!tenantId || known) return;
    api.listMembers().then(
      // Answered: the suspension was lifted meanwhile.
      () => void loadWorkspace(services, workspace.user, { quiet: true }),
      () => undefined,
    );
  }, [api, services, workspace.user, tenantId, known]);

  if (!tenant?.suspended) return null;
  const message =
    state.suspensions[tenant.id] ??
    (tenant.suspendedReason
      ? `The installation's operator suspended it: ${tenant.suspendedReason}. Its agents and chats are unavailable until the suspension is lifted.`
      : "The installation's operator suspended this organisation: its agents and chats are unavailable until the suspension is lifted.");

  async function act(action: "check" | "export" | "leave") {
    if (!tenant) return;
    setBusy(action);
    setError(undefined);
    try {
      if (action === "export") {
        const { blob, filename } = await api.exportTenant();
        download(filename ?? `workforce-${tenant.id}.json`, blob);
      } else if (action === "leave") {
        await api.removeMember(workspace.user.id);
        setLeaving(false);
        await loadWorkspace(services, workspace.user, { quiet: true });
        navigate("/");
      } else {
        // Chats that failed to load while suspended would stay empty after a lift: forget them first.
        services.chat.reset();
        await loadWorkspace(services, workspace.user, { quiet: true });
      }
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <div className="banner banner-danger" data-testid="suspension-banner" role="region" aria-label="Organisation suspended">
      <div className="banner-text">
        <strong>{tenant.name} is suspended.</strong> <span>{message}</span>
      </div>
      <div className="button-row">
        <button type="button" className="button small" disabled={busy !== undefined} aria-busy={busy === "check"} onClick={() => void act("check")}>
          Check again
        </button>
        {canManage(tenant.role) ? (
          <button type="button" className="button small" disabled={busy !== undefined} aria-busy={busy === "export"} onClick={() => void act("export")}>
            Export data
          </button>
        ) : null}
        <button type="button" className="button small danger-text" aria-expanded={leaving} onClick={() => setLeaving(true)}>
          Leave {tenant.name}
        </button>
      </div>
      {leaving ? (
        <ConfirmGroup label={`Leave ${tenant.name}?`} confirmLabel="Confirm leave" busy={busy === "leave"} onConfirm={() => void act("leave")} onCancel={() => setLeaving(false)}>
          Leave {tenant.name}? You lose access to its agents and chats until someone invites you again.
        </ConfirmGroup>
      ) : null}
      <ErrorMessage error={error} />
    </div>
  );
}
