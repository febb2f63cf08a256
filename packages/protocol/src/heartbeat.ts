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
