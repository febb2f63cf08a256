import { z } from "zod";
import { SessionKey } from "./gateway-api";

/*
 * The platform's /api for schedules (issue 15): an agent is sent a message on a cron expression in
 * a time zone, once at a given time, or every N minutes. Each time it is due becomes a firing,
 * with the run it started and, once the run ends, its outcome.
 */

export const ScheduleKind = z.enum(["cron", "at", "every"]);
export type ScheduleKind = z.infer<typeof ScheduleKind>;

/**
 * What happens to firing times missed while no platform was running (decision 037):
 * `skip` (the default) records them as one skipped entry and waits for the next time;
 * `run_once` runs the agent once for all of them.
 */
export const CatchUpPolicy = z.enum(["skip", "run_once"]);
export type CatchUpPolicy = z.infer<typeof CatchUpPolicy>;

/** `fixed`: every firing goes to one session (`sessionKey`); `new`: each firing starts a session of its own. */
export const ScheduleSessionMode = z.enum(["fixed", "new"]);
export type ScheduleSessionMode = z.infer<typeof ScheduleSessionMode>;

/** The shortest interval of an `every` schedule, and the longest (a year). */
export const SCHEDULE_MIN_EVERY_MINUTES = 1;
export const SCHEDULE_MAX_EVERY_MINUTES = 525_600;

const Name = z.string().trim().min(1, "is required").max(100, "must be at most 100 characters");
const Message = z.string().trim().min(1, "must not be empty").max(20_000, "must be at most 20,000 characters");
/** An IANA time zone name ("Europe/Berlin", "UTC"); whether it exists is checked by the platform (invalid_schedule). */
/** Checked for real (DST rules included) by the platform, which answers invalid_schedule naming the zone. */
const ScheduleTimeZone = z.string().trim().min(1, "is required").max(64).regex(/^[A-Za-z0-9_+\-/]+$/, "must be an IANA time zone name such as Europe/Berlin");

/** Every field of a schedule as the API takes it; create requires what its kind needs, PATCH any subset. */
export const ScheduleFields = z.object({
  name: Name,
  kind: ScheduleKind,
  /** `cron`: five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly. */
  cron: z.string().trim().min(1, "must not be empty").max(120).nullable(),
  /** `at`: an ISO 8601 time; without an offset ("2026-12-24T09:00") it is read in `timezone`. */
  at: z.string().trim().min(1).max(40).nullable(),
  /** `every`: the interval in minutes (1 to 525,600). */
  everyMinutes: z.number().int().min(SCHEDULE_MIN_EVERY_MINUTES, `must be at least ${SCHEDULE_MIN_EVERY_MINUTES} minute`).max(SCHEDULE_MAX_EVERY_MINUTES).nullable(),
  /** The time zone the cron expression (and an `at` without offset) is read in; default UTC. */
  timezone: ScheduleTimeZone,
  /** What the agent is sent at each firing. */
  message: Message,
  sessionMode: ScheduleSessionMode,
  /** With `sessionMode: "fixed"`: the session every firing goes to. */
  sessionKey: SessionKey.nullable(),
  catchUp: CatchUpPolicy,
  enabled: z.boolean(),
});
export type ScheduleFields = z.infer<typeof ScheduleFields>;

const optionalNull = <T extends z.ZodType>(schema: T) => schema.optional();

export const ScheduleInput = z.object({
  name: ScheduleFields.shape.name,
  kind: ScheduleKind,
  cron: optionalNull(ScheduleFields.shape.cron),
  at: optionalNull(ScheduleFields.shape.at),
  everyMinutes: optionalNull(ScheduleFields.shape.everyMinutes),
  timezone: ScheduleTimeZone.default("UTC"),
  message: Message,
  sessionMode: ScheduleSessionMode.default("fixed"),
  sessionKey: optionalNull(ScheduleFields.shape.sessionKey),
  catchUp: CatchUpPolicy.default("skip"),
  enabled: z.boolean().default(true),
});
export type ScheduleInput = z.infer<typeof ScheduleInput>;

/** A change: any fields; a new `kind` brings the field its timing needs. `enabled` turns it on or off. */
export const ScheduleUpdate = ScheduleFields.partial();
export type ScheduleUpdate = z.infer<typeof ScheduleUpdate>;

/**
 * - `pending`: due, its run not started yet.
 * - `started`: the run was started (`runId`); its outcome comes when it ends.
 * - `refused`: the organisation could not run it (over budget, suspended, …: `error`).
 * - `skipped`: missed while no platform was running, under the `skip` policy.
 * - `completed` / `failed`: the run ended (`failed`: error or aborted, or it never started).
 */
export const FiringStatus = z.enum(["pending", "started", "refused", "skipped", "completed", "failed"]);
export type FiringStatus = z.infer<typeof FiringStatus>;

export const ScheduleFiring = z.object({
  id: z.string(),
  scheduleId: z.string(),
  /** The firing time it stands for (for a manual run: when it was asked for). */
  scheduledFor: z.string(),
  status: FiringStatus,
  /** Run now, by this member. */
  manual: z.boolean(),
  requestedBy: z.string().nullable(),
  /** Firing times missed while no platform ran that this entry stands for (a catch-up), from `from` to `scheduledFor`. */
  missed: z.object({ count: z.number(), from: z.string() }).nullable(),
  sessionKey: z.string().nullable(),
  runId: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** When its run was started or refused. */
  firedAt: z.string().nullable(),
  /** When its run ended, and what it used. */
  endedAt: z.string().nullable(),
  usage: z.object({ inputTokens: z.number(), outputTokens: z.number() }).nullable(),
});
export type ScheduleFiring = z.infer<typeof ScheduleFiring>;

export const ScheduleView = z.object({
  id: z.string(),
  agent: z.string(),
  name: z.string(),
  kind: ScheduleKind,
  cron: z.string().nullable(),
  /** `at` schedules: the instant (ISO 8601, UTC). */
  at: z.string().nullable(),
  everyMinutes: z.number().nullable(),
  timezone: z.string(),
  message: z.string(),
  sessionMode: ScheduleSessionMode,
  sessionKey: z.string().nullable(),
  catchUp: CatchUpPolicy,
  enabled: z.boolean(),
  /** When it fires next; null when disabled or an `at` schedule that has fired. */
  nextFireAt: z.string().nullable(),
  /** The member on whose behalf it runs (who created it). */
  createdBy: z.object({ userId: z.string(), email: z.string() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  lastFiring: ScheduleFiring.nullable(),
});
export type ScheduleView = z.infer<typeof ScheduleView>;

export const ScheduleList = z.object({ schedules: z.array(ScheduleView) });
export const ScheduleEnvelope = z.object({ schedule: ScheduleView });
export const FiringEnvelope = z.object({ firing: ScheduleFiring });
/** Newest first; `nextCursor` asks for the page after. */
export const FiringList = z.object({ firings: z.array(ScheduleFiring), nextCursor: z.string().nullable() });
/** Recent firings of all an agent's schedules, with the schedule's name. */
export const AgentFiringList = z.object({ firings: z.array(ScheduleFiring.extend({ scheduleName: z.string() })), nextCursor: z.string().nullable() });
export const FiringListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
