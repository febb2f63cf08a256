import { formatCost, formatNumber } from "./format";
import { totalTokens, type UsageSeries } from "./usage-data";

/** The chart's numbers: per agent (with a bar for the share), and per day in a disclosure. */
export function UsageTables({ series, nameOf, colorOf }: { series: UsageSeries; nameOf: (agent: string) => string; colorOf: (agent: string) => number }) {
  const largest = Math.max(1, ...series.byAgent.map((row) => totalTokens(row)));
  const rows = [...series.byAgent].sort((a, b) => totalTokens(b) - totalTokens(a));
  // Runs on the organisation's own model key (issue 14): a column only when there are any.
  const ownKey = rows.some((row) => (row.organisationKey?.runs ?? 0) > 0);
  return (
    <>
      <section className="card section" aria-labelledby="usage-agents-title">
        <h2 id="usage-agents-title">Per agent</h2>
        {rows.length === 0 ? (
          <p className="muted">No agent has used tokens in the last {series.days} days.</p>
        ) : (
          // Focusable, so a keyboard can scroll it sideways on a phone.
          <div className="table-scroll" role="region" aria-labelledby="usage-agents-title" tabIndex={0}>
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col" className="number">
                    Runs
                  </th>
                  <th scope="col" className="number">
                    Input
                  </th>
                  <th scope="col" className="number">
                    Output
                  </th>
                  <th scope="col" className="number">
                    Total tokens
                  </th>
                  {series.hasCost ? (
                    <th scope="col" className="number">
                      Cost
                    </th>
                  ) : null}
                  {ownKey ? (
                    <th scope="col" className="number">
                      Runs on your key
                    </th>
                  ) : null}
                  <th scope="col" className="share">
                    <span className="visually-hidden">Share</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.agent} data-testid="usage-agent-row" data-agent={row.agent}>
                    <th scope="row">{nameOf(row.agent)}</th>
                    <td className="number">{formatNumber(row.runs)}</td>
                    <td className="number">{formatNumber(row.inputTokens)}</td>
                    <td className="number">{formatNumber(row.outputTokens)}</td>
                    <td className="number strong">{formatNumber(totalTokens(row))}</td>
                    {series.hasCost ? <td className="number">{formatCost(row.costUsd)}</td> : null}
                    {ownKey ? (
                      <td className="number" data-testid="usage-agent-own-key">
                        {formatNumber(row.organisationKey?.runs ?? 0)}
                      </td>
                    ) : null}
                    <td className="share">
                      <svg width="100%" height="10" aria-hidden="true" focusable="false">
                        <rect className="share-track" width="100%" height="10" rx="3" />
                        <rect className={`series series-${colorOf(row.agent)}`} width={`${(totalTokens(row) / largest) * 100}%`} height="10" rx="3" />
                      </svg>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <details className="card section">
        <summary>Tokens per day as a table</summary>
        <div className="table-scroll" role="region" aria-label="Tokens per day" tabIndex={0}>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col" className="number">
                  Runs
                </th>
                <th scope="col" className="number">
                  Input
                </th>
                <th scope="col" className="number">
                  Output
                </th>
                <th scope="col" className="number">
                  Total tokens
                </th>
                <th scope="col">Agents</th>
              </tr>
            </thead>
            <tbody>
              {[...series.buckets].reverse().map((bucket) => (
                <tr key={bucket.end.getTime()}>
                  <th scope="row">{bucket.title}</th>
                  <td className="number">{formatNumber(bucket.total.runs)}</td>
                  <td className="number">{formatNumber(bucket.total.inputTokens)}</td>
                  <td className="number">{formatNumber(bucket.total.outputTokens)}</td>
                  <td className="number strong">{formatNumber(totalTokens(bucket.total))}</td>
                  <td>
                    {[...bucket.byAgent.entries()].map(([agent, tokens]) => `${nameOf(agent)}: ${formatNumber(totalTokens(tokens))}`).join(", ") || "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
}
