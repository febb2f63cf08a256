import { z } from "zod";

/*
 * Heartbeats as the convention defines them (OpenClaw's HEARTBEAT.md / HEARTBEAT_OK): the agent is
 * woken every N minutes, reads HEARTBEAT.md, and answers HEARTBEAT_OK when nothing needs attention.
 * Shared by the gateway (the run mode), the platform (settings, ticking) and the web app.
 */

/** The checklist a heartbeat follows, in the agent's workspace beside its bootstrap files: `{tenant}/workspace/{slug}/HEARTBEAT.md`. */
export const HEARTBEAT_FILE = "HEARTBEAT.md";
/** What the agent answers when nothing needs attention. */
export const HEARTBEAT_TOKEN = "HEARTBEAT_OK";
/** The convention's default heartbeat prompt, sent verbatim as the run's user message. */
export const DEFAULT_HEARTBEAT_PROMPT =
  "Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. Do not infer or repeat old tasks from prior chats. If nothing needs attention, reply HEARTBEAT_OK.";
/** A reply of HEARTBEAT_OK plus at most this many characters still counts as "nothing needs attention". */
export const DEFAULT_HEARTBEAT_ACK_MAX_CHARS = 300;
/** The session heartbeat runs go to unless a session key is given. */
export const DEFAULT_HEARTBEAT_SESSION_KEY = "heartbeat";
/** HEARTBEAT.md is part of every heartbeat's prompt: kept small. */
export const HEARTBEAT_FILE_MAX_CHARS = 20_000;
/** An alert's text as recorded with the run (usage journal, run-end, events) is cut to this length. */
export const HEARTBEAT_ALERT_MAX_CHARS = 2_000;

/**
 * How a heartbeat run ended, as the gateway reports it: `skipped` (HEARTBEAT.md missing or
 * effectively empty: no model call), `ok` (the agent answered HEARTBEAT_OK: nothing kept in the
 * transcript), `alert` (anything else: kept in the heartbeat session), `failed` (the run ended in
 * an error or was aborted; see the run's status and error).
 */
export const HeartbeatOutcome = z.enum(["ok", "alert", "skipped", "failed"]);
export type HeartbeatOutcome = z.infer<typeof HeartbeatOutcome>;

/** What a heartbeat run's `run-end` and usage record carry. `text`: an alert's reply (cut to HEARTBEAT_ALERT_MAX_CHARS). */
export const HeartbeatResult = z.object({
  outcome: HeartbeatOutcome,
  text: z.string().max(HEARTBEAT_ALERT_MAX_CHARS).optional(),
});
export type HeartbeatResult = z.infer<typeof HeartbeatResult>;

/**
 * Whether HEARTBEAT.md asks for nothing: only blank lines, headings, HTML comments and empty list
 * items (`-`, `- [ ]`). A heartbeat with such a file ends without a model call.
 */
export function isHeartbeatFileEmpty(content: string): boolean {
  const withoutComments = content.replace(/<!--[\s\S]*?(?:-->|$)/g, "");
  return withoutComments.split("\n").every((line) => {
    const trimmed = line.trim();
    return trimmed === "" || /^#+(\s|$)/.test(trimmed) || /^[-*+]\s*(\[[\sxX]?\]\s*)?$/.test(trimmed);
  });
}

/** The gateway's `GET /v1/agents/:slug/heartbeat`: the agent's HEARTBEAT.md. */
export const HeartbeatFile = z.object({
  /** The file's text; "" when it does not exist. */
  content: z.string(),
  exists: z.boolean(),
  /** Effectively empty (see isHeartbeatFileEmpty): heartbeats are skipped without a model call. */
  empty: z.boolean(),
});
export type HeartbeatFile = z.infer<typeof HeartbeatFile>;

/** The gateway's `PUT /v1/agents/:slug/heartbeat` body. */
export const HeartbeatFileUpdate = z.object({ content: z.string().max(HEARTBEAT_FILE_MAX_CHARS) });
export type HeartbeatFileUpdate = z.infer<typeof HeartbeatFileUpdate>;

/* ---------- the platform's heartbeat settings (`/api/agents/{slug}/heartbeat`) ---------- */

/** Heartbeats come at most this often, and at least once a day. */
export const HEARTBEAT_MIN_EVERY_MINUTES = 5;
export const HEARTBEAT_MAX_EVERY_MINUTES = 1_440;
export const DEFAULT_HEARTBEAT_EVERY_MINUTES = 30;

/** Whether the runtime knows `name` as an IANA time zone ("Europe/Berlin", "UTC"). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const TimeZoneName = z
  .string()
  .min(1)
  .max(100)
  .refine(isTimeZone, "must be an IANA time zone such as Europe/Berlin or UTC");

/**
 * When heartbeats may run, in the heartbeat's time zone: from `start` (inclusive) to `end`
 * (exclusive; `24:00` is the end of the day). A window with `end` before `start` wraps midnight
 * (22:00–06:00). Outside it, due heartbeats wait for the window to open.
 */
export const HeartbeatActiveHours = z
  .object({
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (00:00–23:59)"),
    end: z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, "must be HH:MM (00:01–24:00)"),
  })
  .refine((hours) => hours.start !== hours.end && !(hours.start === "00:00" && hours.end === "24:00"), "start and end must differ (leave activeHours null for all day)");
export type HeartbeatActiveHours = z.infer<typeof HeartbeatActiveHours>;

/** `PUT /api/agents/{slug}/heartbeat`: the fields to change; `content` replaces HEARTBEAT.md. */
export const HeartbeatSettingsUpdate = z.object({
  enabled: z.boolean().optional(),
  everyMinutes: z.number().int().min(HEARTBEAT_MIN_EVERY_MINUTES).max(HEARTBEAT_MAX_EVERY_MINUTES).optional(),
  activeHours: HeartbeatActiveHours.nullable().optional(),
  timeZone: TimeZoneName.optional(),
  sessionKey: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    .optional(),
  content: z.string().max(HEARTBEAT_FILE_MAX_CHARS).optional(),
});
export type HeartbeatSettingsUpdate = z.infer<typeof HeartbeatSettingsUpdate>;

/** How the last firing went: the gateway's outcomes, or `refused` (over budget, suspended, …: never started). */
export const HeartbeatLastOutcome = z.enum(["ok", "alert", "skipped", "failed", "refused"]);
export type HeartbeatLastOutcome = z.infer<typeof HeartbeatLastOutcome>;

/** `GET /api/agents/{slug}/heartbeat`. */
export const HeartbeatView = z.object({
  agent: z.string(),
  enabled: z.boolean(),
  everyMinutes: z.number().int(),
  activeHours: HeartbeatActiveHours.nullable(),
  timeZone: z.string(),
  sessionKey: z.string(),
  /** The member who turned it on: its runs are on their behalf. */
  enabledBy: z.object({ userId: z.string(), email: z.string().nullable() }).nullable(),
  /** When it fires next (null while off). */
  nextDueAt: z.string().nullable(),
  counts: z.object({ ok: z.number().int(), alert: z.number().int(), skipped: z.number().int(), failed: z.number().int(), refused: z.number().int() }),
  last: z
    .object({
      outcome: HeartbeatLastOutcome,
      at: z.string(),
      runId: z.string().nullable(),
      /** Why it was refused or failed. */
      error: z.object({ code: z.string(), message: z.string() }).nullable(),
    })
    .nullable(),
  lastAlert: z.object({ text: z.string(), at: z.string(), runId: z.string() }).nullable(),
  file: HeartbeatFile,
});
export type HeartbeatView = z.infer<typeof HeartbeatView>;

/** `POST /api/agents/{slug}/heartbeat/run`: the heartbeat run started now. */
export const HeartbeatRunStarted = z.object({ runId: z.string(), sessionKey: z.string() });
export type HeartbeatRunStarted = z.infer<typeof HeartbeatRunStarted>;
