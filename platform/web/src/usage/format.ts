const whole = new Intl.NumberFormat();
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const money = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", maximumFractionDigits: 4 });

export const formatNumber = (value: number) => whole.format(value);
export const formatCompact = (value: number) => compact.format(value);
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const BYTE_UNITS = ["bytes", "KB", "MB", "GB", "TB"] as const;

/** 1536 → "1.5 KB": binary units, as the quota is set in MB (WORKFORCE_TENANT_DISK_MB). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? whole.format(bytes) : oneDecimal.format(value)} ${BYTE_UNITS[unit]}`;
}

export const formatCost = (value: number | null | undefined) => (typeof value === "number" ? money.format(value) : "—");

/** 1, 2 or 5 × 10ⁿ at or above `value`: axis steps people read at a glance. */
export function niceStep(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const fraction = value / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}
