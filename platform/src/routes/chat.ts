import { AppError, SendMessageInput, type RunEndEvent } from "@workforce/protocol";
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { actorOf, requireScope, tenantOf } from "../auth/authenticate";
import { assertWithinBudget } from "../budgets";
import type { Database } from "../db/schema";
import { withTenant } from "../db/with-tenant";
import type { GatewayClient } from "../gateway-client";
import { proxySse } from "../sse-proxy";
import type { StreamStats } from "../stream-stats";
import { parseWith, readJson } from "../validation";
import { agentSlug } from "./agents";

export interface ChatRoutesDeps {
  db: Database;
  gateway: GatewayClient;
  stats: StreamStats;
  /** Milliseconds, for time to first token. */
  now: () => number;
  /** The date, for the month a budget counts. */
  clock: () => Date;
  heartbeatMs?: number;
  logError: (message: string, error: unknown) => void;
}

const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const After = z.coerce
  .number({ message: "must be a non-negative integer" })
  .int("must be a non-negative integer")
  .nonnegative("must be a non-negative integer");

function runId(value: string): string {
  if (!RUN_ID_PATTERN.test(value)) throw new AppError("run_not_found", "No such run");
  return value;
}

/** Sending messages (SSE), resuming a run's stream and aborting it. Mounted at /api. */
export function chatRoutes(deps: ChatRoutesDeps) {
  const app = new Hono<AppEnv>();

  /** Records the run's token usage once per run (a resumed stream sees the same run-end). */
  const recordUsage = (c: Context<AppEnv>, tenantId: string, knownAgent: string | undefined) => {
    const actor = actorOf(c);
    return async (event: RunEndEvent, agent: string | undefined) => {
      try {
        const slug = agent ?? knownAgent ?? (await deps.gateway.getRun(tenantId, event.runId)).agent;
        await withTenant(deps.db, tenantId, (trx) =>
          trx
            .insertInto("usage_events")
            .values({
              tenant_id: tenantId,
              user_id: actor.userId,
              api_key_id: actor.apiKeyId,
              agent_slug: slug,
              run_id: event.runId,
              status: event.status,
              input_tokens: event.usage.inputTokens,
              output_tokens: event.usage.outputTokens,
            })
            .onConflict((conflict) => conflict.columns(["tenant_id", "run_id"]).doNothing())
            .execute(),
        );
      } catch (error) {
        deps.logError(`could not record usage of run ${event.runId}`, error);
      }
    };
  };

  app.post("/agents/:slug/messages", async (c) => {
    requireScope(c, "chat");
    const startedAt = deps.now();
    const tenantId = tenantOf(c).id;
    const slug = agentSlug(c.req.param("slug"));
    const input = await readJson(c, SendMessageInput);
    await assertWithinBudget(deps.db, tenantId, deps.clock());
    const upstream = await deps.gateway.startRun(tenantId, slug, input);
    return proxySse({
      upstream,
      tenantId,
      kind: "start",
      stats: deps.stats,
      startedAt,
      now: deps.now,
      heartbeatMs: deps.heartbeatMs,
      onRunEnd: recordUsage(c, tenantId, slug),
    });
  });

  app.get("/runs/:runId/events", async (c) => {
    requireScope(c, "chat");
    const tenantId = tenantOf(c).id;
    const id = runId(c.req.param("runId"));
    const lastEventId = c.req.header("last-event-id")?.trim();
    const after = lastEventId ? parseWith(After, lastEventId, "Last-Event-ID") : parseWith(After.default(0), c.req.query("after"), "after");
    const upstream = await deps.gateway.runEvents(tenantId, id, after);
    return proxySse({
      upstream,
      tenantId,
      kind: "resume",
      stats: deps.stats,
      startedAt: deps.now(),
      now: deps.now,
      heartbeatMs: deps.heartbeatMs,
      onRunEnd: recordUsage(c, tenantId, undefined),
    });
  });

  app.post("/runs/:runId/abort", async (c) => {
    requireScope(c, "chat");
    return c.json(await deps.gateway.abortRun(tenantOf(c).id, runId(c.req.param("runId"))));
  });

  return app;
}
