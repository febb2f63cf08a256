import { HeartbeatRunStarted, HeartbeatView, type HeartbeatSettingsUpdate } from "@workforce/protocol";
import type { ApiCalls } from "./composio-api";

/** An agent's heartbeat (docs/platform-api.md, "Heartbeats"): settings, HEARTBEAT.md, what came of it; run it now. */
export function heartbeatApi({ json }: Pick<ApiCalls, "json">) {
  const path = (slug: string) => `/agents/${encodeURIComponent(slug)}/heartbeat`;
  return {
    get: (slug: string) => json(HeartbeatView, path(slug)),
    /** Fields left out keep their value; `content` replaces HEARTBEAT.md. Owners and admins. */
    update: (slug: string, update: HeartbeatSettingsUpdate) => json(HeartbeatView, path(slug), { method: "PUT", body: JSON.stringify(update) }),
    /** One heartbeat now, on the caller's behalf; its outcome shows in `get` once it ended. */
    runNow: (slug: string) => json(HeartbeatRunStarted, `${path(slug)}/run`, { method: "POST" }),
  };
}
