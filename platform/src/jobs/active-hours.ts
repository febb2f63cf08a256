import type { HeartbeatActiveHours } from "@workforce/protocol";

/*
 * Active hours of a heartbeat, in its IANA time zone: whether an instant falls inside them, and
 * when they open next. Wall-clock minutes come from Intl, so daylight saving time is the time
 * zone's own (a window of 09:00–17:00 is 09:00–17:00 local time on both sides of a change).
 */

const MINUTE = 60_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Minutes since local midnight (0–1439) of `at` in `timeZone`. */
export function localMinutes(at: Date, timeZone: string): number {
  let hour = 0;
  let minute = 0;
  for (const part of formatterOf(timeZone).formatToParts(at)) {
    if (part.type === "hour") hour = Number(part.value) % 24;
    else if (part.type === "minute") minute = Number(part.value);
  }
  return hour * 60 + minute;
}

const minutesOf = (clock: string): number => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/** Whether `at` is inside the window (always, without one). */
export function withinActiveHours(at: Date, hours: HeartbeatActiveHours | null, timeZone: string): boolean {
  if (!hours) return true;
  const now = localMinutes(at, timeZone);
  const start = minutesOf(hours.start);
  const end = minutesOf(hours.end);
  return start < end ? now >= start && now < end : now >= start || now < end;
}

/**
 * The first instant at or after `from` inside the window: `from` itself when it is inside, else
 * the next opening (a whole minute). Jumps straight to the local start time, then checks, and
 * walks minute by minute only when a daylight saving change got in the way.
 */
export function nextWithinActiveHours(from: Date, hours: HeartbeatActiveHours | null, timeZone: string): Date {
  if (withinActiveHours(from, hours, timeZone) || !hours) return from;
  let at = new Date(Math.ceil(from.getTime() / MINUTE) * MINUTE);
  const start = minutesOf(hours.start);
  for (let jump = 0; jump < 3 && !withinActiveHours(at, hours, timeZone); jump += 1) {
    const wait = (start - localMinutes(at, timeZone) + 1_440) % 1_440;
    at = new Date(at.getTime() + (wait === 0 ? 1 : wait) * MINUTE);
  }
  // Two days of minutes at most: every valid window opens within one.
  for (let step = 0; step < 2_880 && !withinActiveHours(at, hours, timeZone); step += 1) at = new Date(at.getTime() + MINUTE);
  // A jump across a change can land past the opening (02:30 does not exist, the window opened at 03:00): step back to it.
  for (let step = 0; step < 120; step += 1) {
    const before = new Date(at.getTime() - MINUTE);
    if (before < from || !withinActiveHours(before, hours, timeZone)) break;
    at = before;
  }
  return at;
}
