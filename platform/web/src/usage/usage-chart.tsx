import { useId } from "react";
import { formatCompact, formatNumber, niceStep } from "./format";
import { useElementWidth } from "./use-element-width";
import { totalTokens, type UsageSeries } from "./usage-data";

const HEIGHT = 240;
const MARGIN = { top: 12, right: 8, bottom: 28, left: 48 };
const TICKS = 4;
const MIN_LABEL_WIDTH = 52;

/**
 * Tokens per day, stacked by agent: a hand-drawn SVG at the container's pixel width. Screen
 * readers get a summary (`role="img"` with title and description) and the table beside it; each
 * bar segment has a `<title>` for pointer users.
 */
export function UsageChart({ series, nameOf, colorOf }: { series: UsageSeries; nameOf: (agent: string) => string; colorOf: (agent: string) => number }) {
  const [container, width] = useElementWidth<HTMLDivElement>(640);
  const id = useId();
  const { buckets, agents } = series;
  const plotWidth = Math.max(width - MARGIN.left - MARGIN.right, 40);
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const peak = Math.max(0, ...buckets.map((bucket) => totalTokens(bucket.total)));
  const step = niceStep(peak / TICKS);
  const top = Math.max(step * Math.ceil(peak / step), step);
  const y = (value: number) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const slot = plotWidth / Math.max(buckets.length, 1);
  const barWidth = Math.max(Math.min(slot * 0.7, 48), 2);
  const labelEvery = Math.max(1, Math.ceil(MIN_LABEL_WIDTH / slot));
  const busiest = buckets.reduce<(typeof buckets)[number] | undefined>((best, bucket) => (!best || totalTokens(bucket.total) > totalTokens(best.total) ? bucket : best), undefined);
  const sum = buckets.reduce((total, bucket) => total + totalTokens(bucket.total), 0);

  return (
    <div className="chart" ref={container}>
      <svg width={width} height={HEIGHT} viewBox={`0 0 ${width} ${HEIGHT}`} role="img" aria-labelledby={`${id}-title ${id}-desc`} data-testid="usage-chart">
        <title id={`${id}-title`}>Tokens per day, by agent</title>
        <desc id={`${id}-desc`}>
          {sum === 0
            ? `No tokens used in the last ${series.days} days.`
            : `${formatNumber(sum)} tokens over the last ${series.days} days; the busiest day was ${busiest?.title ?? ""} with ${formatNumber(busiest ? totalTokens(busiest.total) : 0)} tokens. The table below has every value.`}
        </desc>
        <g className="chart-grid" aria-hidden="true">
          {Array.from({ length: Math.round(top / step) + 1 }, (_, index) => index * step).map((value) => (
            <g key={value}>
              <line x1={MARGIN.left} x2={MARGIN.left + plotWidth} y1={y(value)} y2={y(value)} />
              <text x={MARGIN.left - 6} y={y(value)} dy="0.32em" textAnchor="end">
                {formatCompact(value)}
              </text>
            </g>
          ))}
        </g>
        <g aria-hidden="true">
          {buckets.map((bucket, index) => {
            const x = MARGIN.left + index * slot + (slot - barWidth) / 2;
            let base = 0;
            return (
              <g key={bucket.end.getTime()}>
                {agents.map((agent) => {
                  const tokens = bucket.byAgent.get(agent);
                  if (!tokens || totalTokens(tokens) === 0) return null;
                  const value = totalTokens(tokens);
                  const rect = (
                    <rect
                      key={agent}
                      className={`series series-${colorOf(agent)}`}
                      x={x}
                      width={barWidth}
                      y={y(base + value)}
                      height={Math.max(y(base) - y(base + value), 1)}
                      rx={Math.min(3, barWidth / 4)}
                    >
                      <title>{`${nameOf(agent)} · ${bucket.title}: ${formatNumber(value)} tokens (${formatNumber(tokens.inputTokens)} in, ${formatNumber(tokens.outputTokens)} out), ${tokens.runs} run${tokens.runs === 1 ? "" : "s"}`}</title>
                    </rect>
                  );
                  base += value;
                  return rect;
                })}
                {(buckets.length - 1 - index) % labelEvery === 0 ? (
                  <text className="chart-label" x={x + barWidth / 2} y={HEIGHT - MARGIN.bottom + 18} textAnchor="middle">
                    {bucket.label}
                  </text>
                ) : null}
              </g>
            );
          })}
        </g>
        <line className="chart-axis" x1={MARGIN.left} x2={MARGIN.left + plotWidth} y1={y(0)} y2={y(0)} aria-hidden="true" />
        {sum === 0 ? (
          <text className="chart-empty" x={MARGIN.left + plotWidth / 2} y={MARGIN.top + plotHeight / 2} textAnchor="middle" aria-hidden="true">
            No usage in this period
          </text>
        ) : null}
      </svg>
      {agents.length > 0 ? (
        <ul className="legend" aria-label="Agents in the chart">
          {agents.map((agent) => (
            <li key={agent} title={nameOf(agent)}>
              <span className={`swatch series-${colorOf(agent)}`} aria-hidden="true" />
              <span className="legend-name">{nameOf(agent)}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
