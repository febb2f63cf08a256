import { SESSION_TITLE_PROMPT } from "../gateway/src/sessions/session-titles";

/**
 * Whether a model request is the gateway's session-title request (sent after a chat's first
 * exchange by the search index job, whenever that runs), not a run's: takes the fake upstream's
 * `systemText` or a recorded request body.
 */
export function isTitleRequest(request: { systemText: string } | { body?: unknown }): boolean {
  if ("systemText" in request) return request.systemText.includes(SESSION_TITLE_PROMPT);
  return JSON.stringify(request.body ?? "").includes(SESSION_TITLE_PROMPT);
}
