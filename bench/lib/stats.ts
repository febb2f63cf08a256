/** Percentiles and small summaries over samples in milliseconds. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] ?? Number.NaN;
  const highValue = sorted[high] ?? Number.NaN;
  return lowValue + (highValue - lowValue) * (rank - low);
}

export interface Summary {
  n: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    median: percentile(values, 50),
    p95: percentile(values, 95),
    // No spread: a throughput phase collects more samples than a call's argument limit.
    max: values.length ? values.reduce((top, value) => (value > top ? value : top), Number.NEGATIVE_INFINITY) : Number.NaN,
    mean: values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : Number.NaN,
  };
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : Number.NaN;
}

/** "12.3", "0.45", "1,234" — short, for tables. */
export function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return "–";
  const places = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places });
}

export const mb = (bytes: number) => bytes / 1024 / 1024;

/** "×1.23", or "1/124" when the value is a small fraction of its baseline. */
export function ratio(value: number, baseline: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return "–";
  if (value > 0 && value / baseline < 0.1) return `1/${fmt(baseline / value, 0)}`;
  return `×${fmt(value / baseline, value / baseline >= 100 ? 0 : 2)}`;
}
