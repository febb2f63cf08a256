import type { OrganisationLimitsView } from "@workforce/protocol";
import { useEffect, useId, useState } from "react";
import { useServices } from "../services";
import { formatNumber } from "./format";

const unlimited = (value: number | null, unit = "") => (value === null ? "No limit" : `${formatNumber(value)}${unit}`);

/**
 * The organisation's limits in force, read-only: the operator sets them. Shown under the usage
 * numbers so members know how much may run at once and how far the month's tokens go. Nothing is
 * shown when they cannot be read (an older platform): usage stays usable without them.
 */
export function LimitsPanel({ tenantId, refresh }: { tenantId: string; refresh: number }) {
  const { api } = useServices();
  const [limits, setLimits] = useState<OrganisationLimitsView>();
  const id = useId();

  useEffect(() => {
    let current = true;
    api.limits().then(
      (loaded) => current && setLimits(loaded),
      () => current && setLimits(undefined),
    );
    return () => {
      current = false;
    };
  }, [api, tenantId, refresh]);

  if (!limits) return null;
  const { effective, monthlyTokens } = limits;
  // Which of the two caps holds: the operator's plan, or the organisation's own budget.
  const planHolds = monthlyTokens.plan !== null && (monthlyTokens.budget === null || monthlyTokens.plan < monthlyTokens.budget);
  const tokenSource = effective.monthlyTokens === null ? "" : planHolds ? " (plan)" : " (budget)";
  return (
    <section className="card section limits-panel" aria-labelledby={`${id}-title`} data-testid="limits-panel">
      <h2 id={`${id}-title`}>Limits</h2>
      <dl className="stat-grid">
        <Limit label="Tokens per month" value={`${unlimited(effective.monthlyTokens)}${tokenSource}`} testId="limit-monthly-tokens" />
        <Limit label="Runs at once" value={formatNumber(effective.maxConcurrentRuns)} testId="limit-concurrent-runs" />
        <Limit label="Queued runs" value={formatNumber(effective.maxQueuedRuns)} />
        <Limit label="Disk" value={unlimited(effective.diskMb, " MB")} />
        {effective.requestsPerMinute !== null ? <Limit label="API requests per minute" value={formatNumber(effective.requestsPerMinute)} /> : null}
        {effective.maxStreams !== null ? <Limit label="Concurrent streams" value={formatNumber(effective.maxStreams)} /> : null}
      </dl>
      <p className="hint">Set by the operator of this installation. Owners and admins can lower the monthly tokens with a budget.</p>
    </section>
  );
}

function Limit({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="stat card">
      <dt className="muted small">{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}
