import { useCallback, useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import type { OperatorTenant } from "../api/platform-schemas";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { OperatorTable } from "./operator-table";
import { LimitsForm } from "./limits-form";
import { SuspendForm } from "./suspend-form";

type ErrorDetail = { code: string; message: string };

/**
 * `/operator`: every organisation of the installation with this month's usage and limits, for
 * its operator (the first account), who may set an organisation's limits, suspend it and lift the suspension. Anyone else is told plainly
 * that the page is not theirs; the platform refuses them too.
 */
export function OperatorScreen({ operator }: { operator: boolean }) {
  if (!operator) {
    return (
      <main className="page narrow" id="main" tabIndex={-1}>
        <h1>Operator</h1>
        <p className="notice" role="note" data-testid="operator-refusal">
          Only the operator of this installation can open this page. It lists every organisation on the server and can suspend them. If you run this server,
          sign in with its first account.
        </p>
      </main>
    );
  }
  return <OperatorTenants />;
}

function OperatorTenants() {
  const { api } = useServices();
  const [tenants, setTenants] = useState<OperatorTenant[]>();
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<ErrorDetail>();
  const [suspending, setSuspending] = useState<OperatorTenant>();
  const [busyId, setBusyId] = useState<string>();
  const [limitsOf, setLimitsOf] = useState<OperatorTenant>();

  const load = useCallback(
    async (cursor?: string) => {
      setError(undefined);
      try {
        const page = await api.operatorTenants(cursor);
        setTenants((list) => (cursor ? [...(list ?? []), ...page.tenants] : page.tenants));
        setNextCursor(page.nextCursor);
      } catch (thrown) {
        setError(toErrorDetail(thrown));
        setTenants((list) => list ?? []);
      }
    },
    [api],
  );

  useEffect(() => {
    void load();
  }, [load]);

  async function setSuspension(tenant: OperatorTenant, suspended: boolean, reason?: string) {
    setBusyId(tenant.id);
    setError(undefined);
    try {
      const updated = await api.setSuspension(tenant.id, suspended, reason);
      setTenants((list) => list?.map((other) => (other.id === updated.id ? { ...other, name: updated.name, suspended: updated.suspended } : other)));
      setSuspending(undefined);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusyId(undefined);
    }
  }

  return (
    <main className="page" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>Operator</h1>
          <p className="muted">Every organisation on this installation, with this month's usage and its limits. A suspended organisation's members can only export its data or leave.</p>
        </div>
        <button type="button" className="button" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {tenants === undefined ? (
        error ? null : (
          <p className="muted" role="status">
            Loading organisations…
          </p>
        )
      ) : tenants.length === 0 ? (
        <p className="muted">No organisations yet.</p>
      ) : (
        <OperatorTable
          tenants={tenants}
          busyId={busyId}
          suspendingId={suspending?.id}
          onSuspend={(tenant) => {
            setLimitsOf(undefined);
            setSuspending(tenant);
          }}
          onLift={(tenant) => void setSuspension(tenant, false)}
          limitsId={limitsOf?.id}
          onLimits={(tenant) => {
            setSuspending(undefined);
            setLimitsOf(tenant);
          }}
        />
      )}
      {limitsOf ? (
        <LimitsForm
          key={limitsOf.id}
          tenant={limitsOf}
          onSaved={(view) => setTenants((list) => list?.map((other) => (other.id === view.tenantId ? { ...other, limits: view.effective } : other)))}
          onClose={() => setLimitsOf(undefined)}
        />
      ) : null}
      {suspending ? (
        <SuspendForm
          key={suspending.id}
          tenant={suspending}
          busy={busyId === suspending.id}
          onConfirm={(reason) => void setSuspension(suspending, true, reason)}
          onCancel={() => setSuspending(undefined)}
        />
      ) : null}
      {nextCursor ? (
        <p>
          <button
            type="button"
            className="button"
            disabled={loadingMore}
            aria-busy={loadingMore}
            onClick={() => {
              setLoadingMore(true);
              void load(nextCursor).finally(() => setLoadingMore(false));
            }}
          >
            Show more organisations
          </button>
        </p>
      ) : null}
    </main>
  );
}
