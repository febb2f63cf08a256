/** Hand-written SVG charts: grouped bars (linear or log scale) and lines. No dependencies. */

export interface Series {
  name: string;
  color: string;
}

export interface BarChartInput {
  title: string;
  unit: string;
  groups: { label: string; values: (number | undefined)[] }[];
  series: Series[];
  log?: boolean;
  /** Horizontal reference lines, e.g. a target. */
  lines?: { value: number; label: string }[];
  width?: number;
  height?: number;
}

export const PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2"];

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function label(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(0)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function niceMax(value: number): number {
  if (value <= 0 || !Number.isFinite(value)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function barChart(input: BarChartInput): string {
  const width = input.width ?? 760;
  const height = input.height ?? 340;
  const margin = { top: 48, right: 20, bottom: 56, left: 64 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const values = input.groups.flatMap((group) => group.values).filter((value): value is number => value !== undefined && Number.isFinite(value) && value > 0);
  const lineValues = (input.lines ?? []).map((line) => line.value);
  const rawMax = Math.max(...values, ...lineValues, 0);
  const logMin = input.log ? 10 ** Math.floor(Math.log10(Math.max(Math.min(...values, ...lineValues), 1e-3))) : 0;
  const max = input.log ? 10 ** Math.ceil(Math.log10(Math.max(rawMax, logMin * 10))) : niceMax(rawMax * 1.1);
  const y = (value: number) => {
    if (input.log) {
      const clamped = Math.max(value, logMin);
      return margin.top + plotHeight - ((Math.log10(clamped) - Math.log10(logMin)) / (Math.log10(max) - Math.log10(logMin))) * plotHeight;
    }
    return margin.top + plotHeight - (value / max) * plotHeight;
  };
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<text x="${margin.left}" y="20" font-size="15" font-weight="600">${escape(input.title)}</text>`);
  const ticks = input.log
    ? Array.from({ length: Math.round(Math.log10(max) - Math.log10(logMin)) + 1 }, (_, index) => logMin * 10 ** index)
    : Array.from({ length: 6 }, (_, index) => (max * index) / 5);
  for (const tick of ticks) {
    const ty = y(tick);
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${ty}" y2="${ty}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${ty + 4}" text-anchor="end" fill="#555">${label(tick)}</text>`);
  }
  parts.push(`<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" fill="#555">${escape(input.unit)}${input.log ? " (log)" : ""}</text>`);
  const groupWidth = plotWidth / Math.max(1, input.groups.length);
  const barWidth = Math.min(48, (groupWidth * 0.8) / Math.max(1, input.series.length));
  input.groups.forEach((group, groupIndex) => {
    const groupStart = margin.left + groupIndex * groupWidth + (groupWidth - barWidth * input.series.length) / 2;
    group.values.forEach((value, seriesIndex) => {
      if (value === undefined || !Number.isFinite(value)) return;
      const x = groupStart + seriesIndex * barWidth;
      const top = y(Math.max(value, input.log ? logMin : 0));
      const color = input.series[seriesIndex]?.color ?? PALETTE[seriesIndex % PALETTE.length]!;
      parts.push(`<rect x="${x + 1}" y="${top}" width="${barWidth - 2}" height="${Math.max(0, margin.top + plotHeight - top)}" fill="${color}"/>`);
      parts.push(`<text x="${x + barWidth / 2}" y="${top - 4}" text-anchor="middle" font-size="10" fill="#333">${label(value)}</text>`);
    });
    parts.push(`<text x="${margin.left + groupIndex * groupWidth + groupWidth / 2}" y="${margin.top + plotHeight + 18}" text-anchor="middle">${escape(group.label)}</text>`);
  });
  for (const line of input.lines ?? []) {
    const ly = y(line.value);
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${ly}" y2="${ly}" stroke="#d62728" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${width - margin.right}" y="${ly - 4}" text-anchor="end" fill="#d62728">${escape(line.label)}</text>`);
  }
  parts.push(`<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#999"/>`);
  parts.push(legend(input.series, margin.left, height - 18));
  parts.push(`</svg>`);
  return parts.join("\n") + "\n";
}

function legend(series: Series[], x: number, y: number): string {
  let offset = x;
  return series
    .map((entry) => {
      const part = `<rect x="${offset}" y="${y - 10}" width="12" height="12" fill="${entry.color}"/><text x="${offset + 16}" y="${y}">${escape(entry.name)}</text>`;
      offset += 28 + entry.name.length * 7;
      return part;
    })
    .join("\n");
}

export interface LineChartInput {
  title: string;
  unit: string;
  xUnit: string;
  series: (Series & { points: { x: number; y: number }[] })[];
  width?: number;
  height?: number;
}

export function lineChart(input: LineChartInput): string {
  const width = input.width ?? 760;
  const height = input.height ?? 300;
  const margin = { top: 48, right: 20, bottom: 56, left: 64 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const points = input.series.flatMap((series) => series.points);
  const maxX = Math.max(...points.map((point) => point.x), 1);
  const maxY = niceMax(Math.max(...points.map((point) => point.y), 1) * 1.1);
  const x = (value: number) => margin.left + (value / maxX) * plotWidth;
  const y = (value: number) => margin.top + plotHeight - (value / maxY) * plotHeight;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<text x="${margin.left}" y="20" font-size="15" font-weight="600">${escape(input.title)}</text>`);
  for (let index = 0; index <= 5; index += 1) {
    const value = (maxY * index) / 5;
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(value)}" y2="${y(value)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y(value) + 4}" text-anchor="end" fill="#555">${label(value)}</text>`);
  }
  for (let index = 0; index <= 5; index += 1) {
    const value = (maxX * index) / 5;
    parts.push(`<text x="${x(value)}" y="${margin.top + plotHeight + 16}" text-anchor="middle" fill="#555">${label(value)}</text>`);
  }
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${margin.top + plotHeight + 32}" text-anchor="middle" fill="#555">${escape(input.xUnit)}</text>`);
  parts.push(`<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" fill="#555">${escape(input.unit)}</text>`);
  for (const series of input.series) {
    const path = series.points.map((point, index) => `${index === 0 ? "M" : "L"}${x(point.x).toFixed(1)},${y(point.y).toFixed(1)}`).join(" ");
    parts.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="2"/>`);
  }
  parts.push(legend(input.series, margin.left, height - 10));
  parts.push(`</svg>`);
  return parts.join("\n") + "\n";
}
