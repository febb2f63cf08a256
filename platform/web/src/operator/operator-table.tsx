import type { OperatorTenant } from "../api/platform-schemas";
import { formatNumber } from "../usage/format";

/**
 * The organisations as a table that scrolls sideways in its own box on a phone, so the page
 * itself never does. Each row's actions name the organisation for screen readers.
 */
export function OperatorTable(props: {
  tenants: OperatorTenant[];
  busyId: string | undefined;
  suspendingId: string | undefined;
  onSuspend: (tenant: OperatorTenant) => void;
  onLift: (tenant: OperatorTenant) => void;
  onLimits: (tenant: OperatorTenant) => void;
  limitsId: string | undefined;
}) {
  return (
    <div className="card table-card">
      <div className="table-scroll" role="region" aria-label="Organisations" tabIndex={0}>
        <table className="data-table operator-table">
          <thead>
            <tr>
              <th scope="col">Organisation</th>
              <th scope="col" className="number">
                Members
              </th>
              <th scope="col">Owners</th>
              <th scope="col" className="number">
                Tokens (month)
              </th>
              <th scope="col" className="number">
                Runs
              </th>
              <th scope="col" className="number">
                Budget
              </th>
              <th scope="col">Limits</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.tenants.map((tenant) => (
              <tr key={tenant.id} data-testid="operator-row" data-tenant-name={tenant.name} data-suspended={tenant.suspended ? "true" : "false"}>
                <th scope="row">{tenant.name}</th>
                <td className="number">{formatNumber(tenant.members)}</td>
                <td className="owners">{tenant.owners.length > 0 ? tenant.owners.join(", ") : "—"}</td>
                <td className="number">{formatNumber(tenant.usage.tokens)}</td>
                <td className="number">{formatNumber(tenant.usage.runs)}</td>
                <td className="number">{tenant.usage.monthlyTokens === null ? "Unlimited" : `${formatNumber(tenant.usage.monthlyTokens)} / month`}</td>
                <td className="small" data-testid="operator-limits">
                  {tenant.limits ? `${formatNumber(tenant.limits.maxConcurrentRuns)} at once · ${formatNumber(tenant.limits.maxQueuedRuns)} queued` : "—"}
                  {tenant.limits?.diskMb ? ` · ${formatNumber(tenant.limits.diskMb)} MB` : ""}
                </td>
                <td className="status" data-testid="operator-status">
                  {tenant.suspended ? (
                    <>
                      <span className="badge badge-danger">Suspended</span>{" "}
                      <span className="muted small" title={new Date(tenant.suspended.at).toLocaleString()}>
                        since {new Date(tenant.suspended.at).toLocaleDateString()}
                      </span>
                      {tenant.suspended.reason ? <span className="suspension-reason small">{tenant.suspended.reason}</span> : null}
                    </>
                  ) : (
                    <span className="badge badge-ok">Active</span>
                  )}
                </td>
                <td className="row-actions">
                  <button
                    type="button"
                    className="button small"
                    aria-label={`Limits of ${tenant.name}…`}
                    aria-expanded={props.limitsId === tenant.id}
                    onClick={() => props.onLimits(tenant)}
                  >
                    Limits…
                  </button>{" "}
                  {tenant.suspended ? (
                    <button
                      type="button"
                      className="button small"
                      disabled={props.busyId === tenant.id}
                      aria-busy={props.busyId === tenant.id}
                      aria-label={`Lift the suspension of ${tenant.name}`}
                      onClick={() => props.onLift(tenant)}
                    >
                      Lift suspension
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="button small danger-text"
                      aria-label={`Suspend ${tenant.name}…`}
                      aria-expanded={props.suspendingId === tenant.id}
                      onClick={() => props.onSuspend(tenant)}
                    >
                      Suspend…
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
