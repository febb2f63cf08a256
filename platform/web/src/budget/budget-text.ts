/* Reading and writing token budgets: pure, so they are tested without a browser. */

/** The largest budget the platform accepts (`Number.MAX_SAFE_INTEGER` tokens). */
const MAX_TOKENS = Number.MAX_SAFE_INTEGER;

/** Whole tokens typed with or without separators ("1,000,000", "1 000 000"); undefined when not a whole number. */
export function parseTokens(text: string): number | undefined {
  const digits = text.replace(/[\s,._']/g, "");
  if (!/^[0-9]{1,16}$/.test(digits)) return undefined;
  const value = Number(digits);
  return value <= MAX_TOKENS ? value : undefined;
}

/** "1 January": the day the month's count starts again; budgets are counted in UTC months. */
export function formatResetDay(periodEnd: string): string {
  return new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long", timeZone: "UTC" }).format(new Date(periodEnd));
}
