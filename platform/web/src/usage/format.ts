const whole = new Intl.NumberFormat();
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const money = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", maximumFractionDigits: 4 });

export const formatNumber = (value: number) => whole.format(value);
export const formatCompact = (value: number) => compact.format(value);
export const formatCost = (value: number | null | undefined) => (typeof value === "number" ? money.format(value) : "—");

/** 1, 2 or 5 × 10ⁿ at or above `value`: axis steps people read at a glance. */
export function niceStep(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const fraction = value / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}
