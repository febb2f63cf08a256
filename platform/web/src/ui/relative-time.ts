/**
 * Times as people say them, in the reader's language (Intl): "in 14 minutes", "3 minutes ago",
 * "yesterday", "resets on 1 January". `locale` is for tests; the app uses the browser's.
 */

const UNITS: ReadonlyArray<[Intl.RelativeTimeFormatUnit, number]> = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

function toMillis(value: Date | string | number): number {
  return value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : value;
}

/** "in 14 minutes", "2 hours ago", "tomorrow": the largest unit that fits, rounded. */
export function formatRelative(when: Date | string | number, now: number = Date.now(), locale?: string): string {
  const then = toMillis(when);
  if (Number.isNaN(then)) return "";
  const seconds = (then - now) / 1000;
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  if (Math.abs(seconds) < 45) return format.format(0, "second");
  for (const [unit, size] of UNITS) {
    // Round up to the next unit from 90% of it: "in 59 minutes" reads better as "in 1 hour".
    if (Math.abs(seconds) >= size * 0.9 || unit === "second") return format.format(Math.round(seconds / size), unit);
  }
  return "";
}

/** "in 14 minutes" for a number of seconds from now (a Retry-After). */
export function formatIn(seconds: number, now: number = Date.now(), locale?: string): string {
  return formatRelative(now + Math.max(0, seconds) * 1000, now, locale);
}

/** "1 January" (with the year when it is not this year's): the day something happens. */
export function formatDay(when: Date | string | number, now: number = Date.now(), locale?: string): string {
  const then = toMillis(when);
  if (Number.isNaN(then)) return "";
  const sameYear = new Date(then).getFullYear() === new Date(now).getFullYear();
  return new Intl.DateTimeFormat(locale, { day: "numeric", month: "long", ...(sameYear ? {} : { year: "numeric" }) }).format(then);
}

/** A full date and time for a tooltip: "3 December 2026, 14:05". */
export function formatDateTime(when: Date | string | number, locale?: string): string {
  const then = toMillis(when);
  if (Number.isNaN(then)) return "";
  return new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "short" }).format(then);
}

/** "just now", "3 minutes ago", "yesterday", or the day for anything older than a week. */
export function relativeTime(iso: string, now: number = Date.now(), locale?: string): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  if (Math.abs(now - then) < 45_000) return new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(0, "second");
  if (now - then > 7 * 24 * 3600 * 1000) return formatDay(then, now, locale);
  return formatRelative(then, now, locale);
}
