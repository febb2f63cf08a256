import { AppError, SCHEDULE_MAX_EVERY_MINUTES, SCHEDULE_MIN_EVERY_MINUTES, type ScheduleKind } from "@workforce/protocol";
import { Cron } from "croner";

/*
 * When a schedule is due (issue 15). Cron expressions are read by croner in the schedule's IANA
 * time zone, so "0 9 * * *" in Europe/Berlin is 09:00 there in winter and in summer; a time that
 * a DST change skips runs at the first valid time after it, and a time that occurs twice runs once.
 */

/** A schedule's timing as stored: exactly one of `cron`, `at`, `everySeconds` is set, by `kind`. */
export interface ScheduleTiming {
  kind: ScheduleKind;
  cron: string | null;
  at: Date | null;
  everySeconds: number | null;
  timezone: string;
}

/** The timing as the API takes it (before it is checked). */
export interface TimingInput {
  kind: ScheduleKind;
  cron?: string | null | undefined;
  at?: string | null | undefined;
  everyMinutes?: number | null | undefined;
  timezone: string;
}

const invalid = (message: string) => new AppError("invalid_schedule", message);

/** Whether `name` is a time zone this Node knows (its ICU's IANA database). */
export function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const NICKNAMES = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

/** A five-field cron expression (or a nickname) in a time zone; throws invalid_schedule naming what is wrong. */
export function parseCron(expression: string, timezone: string): Cron {
  const trimmed = expression.trim();
  const fields = trimmed.split(/\s+/);
  if (!NICKNAMES.has(trimmed.toLowerCase()) && fields.length !== 5) {
    throw invalid(`The cron expression "${trimmed.slice(0, 120)}" has ${fields.length} field${fields.length === 1 ? "" : "s"}; it needs five: minute hour day-of-month month day-of-week (e.g. "0 9 * * 1-5"), or @hourly, @daily, @weekly, @monthly, @yearly`);
  }
  try {
    return new Cron(NICKNAMES.has(trimmed.toLowerCase()) ? trimmed.toLowerCase() : trimmed, { timezone, paused: true, mode: "5-part" });
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern:\s*/, "") : String(error);
    throw invalid(`The cron expression "${trimmed.slice(0, 120)}" is not valid: ${reason}`);
  }
}

const HAS_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/** An `at` time: ISO 8601 with an offset, or a local time read in `timezone`. */
export function parseAt(value: string, timezone: string): Date {
  const text = value.trim();
  if (HAS_OFFSET.test(text)) {
    const instant = new Date(text);
    if (Number.isNaN(instant.getTime())) throw invalid(`"${text.slice(0, 40)}" is not an ISO 8601 time such as 2026-12-24T09:00:00Z`);
    return instant;
  }
  if (!LOCAL_TIME.test(text)) throw invalid(`"${text.slice(0, 40)}" is not an ISO 8601 time such as 2026-12-24T09:00 (read in the schedule's time zone) or 2026-12-24T09:00:00Z`);
  try {
    const once = new Cron(text.length === 16 ? `${text}:00` : text.slice(0, 19), { timezone, paused: true, allowPast: true });
    const instant = once.nextRun(new Date(0));
    if (!instant) throw new Error("no such time");
    return instant;
  } catch {
    throw invalid(`"${text.slice(0, 40)}" is not a valid time in ${timezone}`);
  }
}

/** Checks the API's timing fields (the time zone, the cron expression, the `at` time, the interval) and answers the stored form. */
export function checkTiming(input: TimingInput, now: Date, options: { requireFuture: boolean }): ScheduleTiming {
  if (!isKnownTimeZone(input.timezone)) throw invalid(`Unknown time zone "${input.timezone.slice(0, 64)}": use an IANA name such as Europe/Berlin, America/New_York or UTC`);
  const base = { kind: input.kind, cron: null, at: null, everySeconds: null, timezone: input.timezone };
  switch (input.kind) {
    case "cron": {
      if (!input.cron) throw invalid('A "cron" schedule needs a cron expression (field "cron"), e.g. "0 9 * * 1-5"');
      if (input.at != null || input.everyMinutes != null) throw invalid('A "cron" schedule takes only "cron"; leave "at" and "everyMinutes" out');
      const cron = parseCron(input.cron, input.timezone);
      if (!cron.nextRun(now)) throw invalid(`The cron expression "${input.cron}" never fires again`);
      return { ...base, cron: input.cron.trim() };
    }
    case "at": {
      if (!input.at) throw invalid('An "at" schedule needs a time (field "at"), e.g. "2026-12-24T09:00"');
      if (input.cron != null || input.everyMinutes != null) throw invalid('An "at" schedule takes only "at"; leave "cron" and "everyMinutes" out');
      const at = parseAt(input.at, input.timezone);
      if (options.requireFuture && at.getTime() <= now.getTime()) throw invalid(`The time ${at.toISOString()} is in the past`);
      return { ...base, at };
    }
    case "every": {
      if (input.everyMinutes == null) throw invalid('An "every" schedule needs an interval in minutes (field "everyMinutes")');
      if (input.cron != null || input.at != null) throw invalid('An "every" schedule takes only "everyMinutes"; leave "cron" and "at" out');
      if (!Number.isInteger(input.everyMinutes) || input.everyMinutes < SCHEDULE_MIN_EVERY_MINUTES || input.everyMinutes > SCHEDULE_MAX_EVERY_MINUTES) {
        throw invalid(`The interval must be a whole number of minutes from ${SCHEDULE_MIN_EVERY_MINUTES} to ${SCHEDULE_MAX_EVERY_MINUTES}`);
      }
      return { ...base, everySeconds: input.everyMinutes * 60 };
    }
  }
}

/**
 * When a schedule first fires once enabled (or changed) at `now`: the cron's next time, the
 * `at` time if still ahead, or one interval from now.
 */
export function firstFireAt(timing: ScheduleTiming, now: Date): Date | null {
  if (timing.kind === "cron") return parseCron(timing.cron ?? "", timing.timezone).nextRun(now);
  if (timing.kind === "at") return timing.at && timing.at.getTime() > now.getTime() ? timing.at : null;
  return new Date(now.getTime() + (timing.everySeconds ?? 60) * 1_000);
}

/** Firing times due by `now`, starting at `from` (the stored next_fire_at), and the first one after. */
export interface DueTimes {
  /** How many (capped at `cap`). */
  count: number;
  first: Date;
  last: Date;
  /** The one before `last`; null when only one is due. */
  previous: Date | null;
  /** The first firing time after `now`; null for an `at` schedule. */
  next: Date | null;
}

/** The firing times from `from` up to `now`; undefined when `from` is still ahead. */
export function dueTimes(timing: ScheduleTiming, from: Date, now: Date, cap = 10_000): DueTimes | undefined {
  if (from.getTime() > now.getTime()) return undefined;
  if (timing.kind === "at") return { count: 1, first: from, last: from, previous: null, next: null };
  if (timing.kind === "every") {
    const step = (timing.everySeconds ?? 60) * 1_000;
    const count = Math.floor((now.getTime() - from.getTime()) / step) + 1;
    const last = new Date(from.getTime() + (count - 1) * step);
    return { count: Math.min(count, cap), first: from, last, previous: count > 1 ? new Date(last.getTime() - step) : null, next: new Date(last.getTime() + step) };
  }
  const cron = parseCron(timing.cron ?? "", timing.timezone);
  let last = from;
  let previous: Date | null = null;
  let count = 1;
  for (let next = cron.nextRun(last); next && next.getTime() <= now.getTime(); next = cron.nextRun(last)) {
    previous = last;
    last = next;
    count += 1;
    if (count >= cap) {
      // Past the cap the count stops; the last time is still the latest one due.
      const [latest, before] = cron.previousRuns(2, new Date(now.getTime() + 1_000));
      if (latest && latest.getTime() <= now.getTime()) [last, previous] = [latest, before ?? previous];
      else if (before) [last, previous] = [before, cron.previousRuns(1, before)[0] ?? previous];
      break;
    }
  }
  return { count, first: from, last, previous, next: cron.nextRun(now) };
}
