import { useCallback, useEffect, useId, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { DiskUsageCard } from "./disk-usage";
import { formatCost, formatNumber } from "./format";
import { LimitsPanel } from "./limits-panel";
import { UsageChart } from "./usage-chart";
import { fetchUsage, totalTokens, type UsageSeries } from "./usage-data";
import { UsageTables } from "./usage-tables";

const RANGES = [7, 14, 30] as const;
const SERIES_COLORS = 8;

/** Token usage of the selected organisation: totals, a chart per day and agent, and the numbers as tables. */
export function UsageScreen({ tenantId }: { tenantId: string }) {
  const { api } = useServices();
  const [days, setDays] = useState<number>(14);
  const [series, setSeries] = useState<UsageSeries>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<{ code: string; message: string }>();
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const [version, setVersion] = useState(0);
  const id = useId();

  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(undefined);
    fetchUsage(api, days).then(
      (next) => {
        if (!current) return;
        setSeries(next);
        setLoading(false);
      },
      (thrown: unknown) => {
        if (!current) return;
        setError(toErrorDetail(thrown));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [api, days, tenantId, version]);

  // Display names come from the gateway; without it the slugs are shown.
  useEffect(() => {
    let current = true;
    api.listAgents().then(
      (agents) => current && setNames(new Map(agents.map((agent) => [agent.slug, agent.name]))),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [api, tenantId]);

  const nameOf = useCallback((agent: string) => names.get(agent) ?? agent, [names]);
  const colorOf = useCallback((agent: string) => ((series?.agents.indexOf(agent) ?? 0) % SERIES_COLORS) + 1, [series]);

  return (
    <main className="page" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>Usage</h1>
          <p className="muted">Tokens used by this organisation's agents, per day and per agent.</p>
        </div>
        <div className="usage-controls">
          <fieldset className="segmented">
            <legend className="visually-hidden">Period</legend>
            {RANGES.map((range) => (
              <label key={range} className={range === days ? "checked" : undefined}>
                <input type="radio" name={`${id}-range`} value={range} checked={range === days} onChange={() => setDays(range)} />
                {range} days
              </label>
            ))}
          </fieldset>
          <button type="button" className="button small" onClick={() => setVersion((value) => value + 1)} disabled={loading} aria-busy={loading}>
            Refresh
          </button>
        </div>
      </div>
      <ErrorMessage error={error} />
      {loading && !series ? (
        <p className="muted" role="status">
          Loading usage…
        </p>
      ) : null}
      {series ? (
        <div className={loading ? "stale" : undefined} aria-busy={loading}>
          <dl className="stat-grid" aria-label={`Totals for the last ${series.days} days`}>
            <Stat label="Tokens" value={formatNumber(totalTokens(series.totals))} testId="usage-total-tokens" />
            <Stat label="Input tokens" value={formatNumber(series.totals.inputTokens)} />
            <Stat label="Output tokens" value={formatNumber(series.totals.outputTokens)} />
            <Stat label="Runs" value={formatNumber(series.totals.runs)} testId="usage-total-runs" />
            {series.hasCost ? <Stat label="Cost" value={formatCost(series.totals.costUsd)} /> : null}
            {series.totals.organisationKey && series.totals.organisationKey.runs > 0 ? (
              <Stat
                label="On your own model key"
                value={`${formatNumber(series.totals.organisationKey.runs)} runs · ${formatNumber(totalTokens(series.totals.organisationKey))} tokens`}
                testId="usage-own-key"
              />
            ) : null}
          </dl>
          <section className="card section" aria-labelledby={`${id}-chart`}>
            <h2 id={`${id}-chart`}>Tokens per day</h2>
            <UsageChart series={series} nameOf={nameOf} colorOf={colorOf} />
            <p className="hint">
              {series.calendarDays ? "Calendar days (UTC)." : "Each bar is 24 hours, counted back from now."}
              {series.hasCost ? "" : " Cost is not shown: the platform reports tokens, not prices."}
            </p>
          </section>
          <UsageTables series={series} nameOf={nameOf} colorOf={colorOf} />
          {series.disk ? <DiskUsageCard disk={series.disk} /> : null}
        </div>
      ) : null}
      <LimitsPanel tenantId={tenantId} refresh={version} />
    </main>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="stat card">
      <dt className="muted small">{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}
