import { ACTOR_API_KEY_HEADER, ACTOR_USER_HEADER, ActorId, AppError, FORWARDED_BY_HEADER, RUN_SOURCE_HEADER, RunSource, GatewayRunInput, RUN_ID_HEADER, type RunOrigin } from "@workforce/protocol";
import { assertSlug } from "@workforce/protocol/tenant-path";
import { Hono, type Context } from "hono";
import type { SubmitRun, SubmittedRun } from "../../runs/run-forwarding";
import type { RunManager } from "../../runs/run-manager";
import type { GatewayEnv } from "../gateway-env";
import { readJsonBody } from "../request-input";
import { runEventStream } from "../run-event-stream";

export interface RunRouteDeps {
  runs: RunManager;
  /** Starts a run here, or at the gateway holding its session (run-forwarding). */
  submitRun: SubmitRun;
  heartbeatMs: number;
}

function wantsEventStream(accept: string | undefined): boolean {
  return (accept ?? "").toLowerCase().includes("text/event-stream");
}

function parseAfter(query: string | undefined, lastEventId: string | undefined): number {
  const raw = query ?? lastEventId;
  if (raw === undefined || raw.trim() === "") return 0;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new AppError("validation_failed", `${query === undefined ? "Last-Event-ID" : "after"}: must be a whole number ≥ 0`);
  }
  return value;
}

/** On whose behalf the platform sends (for metering): the user and API key it names, when well-formed. */
export function actorOf(c: Context<GatewayEnv>): { userId?: string; apiKeyId?: string } {
  const userId = ActorId.safeParse(c.req.header(ACTOR_USER_HEADER));
  const apiKeyId = ActorId.safeParse(c.req.header(ACTOR_API_KEY_HEADER));
  return { ...(userId.success ? { userId: userId.data } : {}), ...(apiKeyId.success ? { apiKeyId: apiKeyId.data } : {}) };
}

/**
 * Who starts a run and how it came in: the actor headers, and for a request another gateway
 * forwarded (it names itself), the entry point the run first came in by.
 */
export function submittedBy(c: Context<GatewayEnv>): { origin: RunOrigin; forwarded: boolean } {
  const forwarded = c.req.header(FORWARDED_BY_HEADER) !== undefined;
  const source = (forwarded && RunSource.safeParse(c.req.header(RUN_SOURCE_HEADER)).data) || "http";
  return { origin: { source, ...actorOf(c) }, forwarded };
}

/** A run just started: its events as SSE (`Accept: text/event-stream`), else 202 with its RunInfo. */
export function startedRun(c: Context<GatewayEnv>, run: SubmittedRun, heartbeatMs: number): Response {
  if (wantsEventStream(c.req.header("accept"))) {
    return runEventStream(run.events, 0, { heartbeatMs, headers: { [RUN_ID_HEADER]: run.runId } });
  }
  c.header(RUN_ID_HEADER, run.runId);
  return c.json(run.info(), 202);
}

/** Sending messages (`/v1/agents/:slug/runs`). */
export function agentRunRoutes(deps: RunRouteDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.post("/:slug/runs", async (c) => {
    const slug = assertSlug(c.req.param("slug"));
    const input = await readJsonBody(c, GatewayRunInput);
    const { origin, forwarded } = submittedBy(c);
    const run = await deps.submitRun(c.get("tenantId"), slug, input, origin, { forwarded });
    return startedRun(c, run, deps.heartbeatMs);
  });
  return app;
}

/** `/v1/runs/:runId`: status, replay, abort; also of runs another gateway executes (with a run relay). */
export function runRoutes(deps: RunRouteDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get("/:runId", async (c) => c.json((await deps.runs.locate(c.get("tenantId"), c.req.param("runId"))).info()));
  app.get("/:runId/events", async (c) => {
    const runId = c.req.param("runId");
    const run = await deps.runs.locate(c.get("tenantId"), runId);
    const after = parseAfter(c.req.query("after"), c.req.header("last-event-id"));
    return runEventStream(run.events, after, { heartbeatMs: deps.heartbeatMs, headers: { [RUN_ID_HEADER]: runId } });
  });
  app.post("/:runId/abort", async (c) => c.json(await (await deps.runs.locate(c.get("tenantId"), c.req.param("runId"))).abort()));
  return app;
}
