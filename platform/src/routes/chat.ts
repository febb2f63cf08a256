import { AppError, SendMessageInput } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import type { GatewayClient } from "../gateway-client";
import { proxySse } from "../sse-proxy";
import type { StreamStats } from "../stream-stats";
import { parseWith, readJson } from "../validation";
import { agentSlug } from "./agents";

export interface ChatRoutesDeps {
  gateway: GatewayClient;
  stats: StreamStats;
  now: () => number;
  heartbeatMs?: number;
}

const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const After = z.coerce.number({ message: "must be a non-negative integer" }).int("must be a non-negative integer").nonnegative("must be a non-negative integer");

function runId(value: string): string {
  if (!RUN_ID_PATTERN.test(value)) throw new AppError("run_not_found", "No such run");
  return value;
}

/** Sending messages (SSE), resuming a run's stream and aborting it. Mounted at /api. */
export function chatRoutes(deps: ChatRoutesDeps) {
  const app = new Hono<AppEnv>();

  app.post("/agents/:slug/messages", async (c) => {
    const startedAt = deps.now();
    const tenantId = c.get("tenant").id;
    const slug = agentSlug(c.req.param("slug"));
    const input = await readJson(c, SendMessageInput);
    const upstream = await deps.gateway.startRun(tenantId, slug, input);
    return proxySse({ upstream, tenantId, kind: "start", stats: deps.stats, startedAt, now: deps.now, heartbeatMs: deps.heartbeatMs });
  });

  app.get("/runs/:runId/events", async (c) => {
    const tenantId = c.get("tenant").id;
    const id = runId(c.req.param("runId"));
    const lastEventId = c.req.header("last-event-id")?.trim();
    const after = lastEventId ? parseWith(After, lastEventId, "Last-Event-ID") : parseWith(After.default(0), c.req.query("after"), "after");
    const upstream = await deps.gateway.runEvents(tenantId, id, after);
    return proxySse({ upstream, tenantId, kind: "resume", stats: deps.stats, startedAt: deps.now(), now: deps.now, heartbeatMs: deps.heartbeatMs });
  });

  app.post("/runs/:runId/abort", async (c) => c.json(await deps.gateway.abortRun(c.get("tenant").id, runId(c.req.param("runId")))));

  return app;
}
