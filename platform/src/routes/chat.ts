import { AppError, SendMessageInput, type RunEndEvent } from "@workforce/protocol";
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { actorOf, requireScope, tenantOf } from "../auth/authenticate";
import type { BudgetGuard } from "../budgets";
import type { GatewayClient } from "../gateway-client";
import { createStreamHeartbeat, proxySse } from "../sse-proxy";
import type { StreamStats } from "../stream-stats";
import type { UsageRecorder } from "../usage-recorder";
import { parseWith, readJson } from "../validation";
import { agentSlug } from "./agents";

export interface ChatRoutesDeps {
  budget: BudgetGuard;
  usage: UsageRecorder;
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
  const heartbeat = createStreamHeartbeat(deps.heartbeatMs);

  /**
   * Records the run's token usage once per run (a resumed stream sees the same run-end): queued
   * for the next batch insert, and counted against the budget at once.
   */
  const recordUsage = (c: Context<AppEnv>, tenantId: string, knownAgent: string | undefined) => {
    const actor = actorOf(c);
    return async (event: RunEndEvent, agent: string | undefined) => {
      try {
        const slug = agent ?? knownAgent ?? (await deps.gateway.getRun(tenantId, event.runId)).agent;
        const { inputTokens, outputTokens } = event.usage;
        const fresh = deps.usage.record({
          tenantId,
          userId: actor.userId,
          apiKeyId: actor.apiKeyId,
          agentSlug: slug,
          runId: event.runId,
          status: event.status,
          inputTokens,
          outputTokens,
          at: deps.clock(),
        });
        if (fresh) deps.budget.recorded(tenantId, inputTokens + outputTokens);
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
    await deps.budget.assertWithinBudget(tenantId, deps.clock());
    const { subscription } = await deps.gateway.streams.startRun(tenantId, slug, input);
    return proxySse({
      subscription,
      tenantId,
      kind: "start",
      stats: deps.stats,
      heartbeat,
      startedAt,
      now: deps.now,
      onRunEnd: recordUsage(c, tenantId, slug),
    });
  });

  app.get("/runs/:runId/events", async (c) => {
    requireScope(c, "chat");
    const tenantId = tenantOf(c).id;
    const id = runId(c.req.param("runId"));
    const lastEventId = c.req.header("last-event-id")?.trim();
    const after = lastEventId ? parseWith(After, lastEventId, "Last-Event-ID") : parseWith(After.default(0), c.req.query("after"), "after");
    const { info, subscription } = await deps.gateway.streams.subscribe(tenantId, id, after);
    return proxySse({
      subscription,
      tenantId,
      kind: "resume",
      stats: deps.stats,
      heartbeat,
      startedAt: deps.now(),
      now: deps.now,
      onRunEnd: recordUsage(c, tenantId, info.agent),
    });
  });

  app.post("/runs/:runId/abort", async (c) => {
    requireScope(c, "chat");
    return c.json(await deps.gateway.abortRun(tenantOf(c).id, runId(c.req.param("runId"))));
  });

  return app;
}
