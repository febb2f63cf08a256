import { interruptedRunResponse, isRunGone, resubscribeLost } from "../chat/interrupted-run";
import { AppError, SendMessageInput, type ApprovalRequiredEvent, type RunEndEvent, type RunInfo } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { operationRoutes, type Actor, type TenantAccess } from "../auth/operation-route";
import type { AdmittedMessage, MessageAdmission } from "../chat/message-admission";
import type { SessionOwners } from "../chat/session-owners";
import type { BudgetGuard } from "../budgets";
import type { GatewayClient } from "../gateway-client";
import type { ApiLimiter } from "../limits/api-limits";
import type { StreamLease } from "../limits/stream-leases";
import { createStreamHeartbeat, proxySse } from "../sse-proxy";
import type { StreamStats } from "../stream-stats";
import type { UsageRecorder } from "../usage-recorder";
import { parseWith, readJson } from "../validation";
import { agentSlug } from "./agents";

export interface ChatRoutesDeps {
  budget: BudgetGuard;
  usage: UsageRecorder;
  gateway: GatewayClient;
  owners: SessionOwners;
  /** Open streams per API key and per user, shared by every process (resuming a run's stream). */
  streams: Pick<ApiLimiter, "openStream">;
  /** A message's stream place, session and integrations, in one transaction (chat/message-admission.ts). */
  admit: MessageAdmission;
  stats: StreamStats;
  /** Milliseconds, for time to first token. */
  now: () => number;
  /** The date, for the month a budget counts. */
  clock: () => Date;
  heartbeatMs?: number;
  logError: (message: string, error: unknown) => void;
  /** Records a tool call's approval as soon as a stream passes its `approval-required` event (issue 15). */
  approvals?: (tenantId: string, session: { agent: string; sessionKey: string }, event: ApprovalRequiredEvent) => Promise<void>;
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
  const route = operationRoutes(app);
  const heartbeat = createStreamHeartbeat(deps.heartbeatMs);

  /**
   * Records the run's token usage once per run (a resumed stream sees the same run-end): queued
   * for the next batch insert, and counted against the budget at once.
   */
  const recordUsage = (actor: Actor, tenantId: string, knownAgent: string | undefined) => {
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

  /**
   * Resuming or aborting a run is reading or writing its session: the same owner check, answered
   * as run_not_found. Returns whom the run's usage counts for: the session's owner, whoever follows it.
   */
  async function authorizeRun(access: TenantAccess, info: RunInfo): Promise<Actor> {
    const { owner, relation } = await deps.owners.authorize(access, info.agent, info.sessionKey, { code: "run_not_found", message: "No such run" });
    if (relation === "own") return access.actor;
    if (access.operation === "runs.events") await deps.owners.auditRead(access, info.agent, info.sessionKey, owner, { runId: info.runId });
    return { userId: owner.type === "user" ? owner.id : null, apiKeyId: owner.type === "api-key" ? owner.id : null };
  }

  /** A paused run's approval, recorded while the browser is shown it (the usage journal would bring it seconds later). */
  const recordApproval = (tenantId: string, agent: string, sessionKey: string) => {
    const approvals = deps.approvals;
    return approvals ? { onApprovalRequired: (event: ApprovalRequiredEvent) => void approvals(tenantId, { agent, sessionKey }, event) } : {};
  };

  /**
   * Frees a stream's place when it ends: for this process at once, for the others with the next
   * batch of releases (decision 051), when the promise resolves. A failure only delays that until
   * the lease expires.
   */
  const releaseOnClose = (lease: StreamLease) => () =>
    lease.release().catch((error: unknown) => deps.logError("could not release a stream lease (it expires on its own)", error));

  /** Runs `open` holding a stream place for the caller; the place is freed again if it fails. */
  async function withStreamPlace(access: TenantAccess, open: (lease: StreamLease) => Promise<Response>): Promise<Response> {
    const lease = await deps.streams.openStream(access.principal, access.tenantId);
    try {
      return await open(lease);
    } catch (error) {
      void releaseOnClose(lease)();
      throw error;
    }
  }

  route("chat.send", async (c, access) => {
    const startedAt = deps.now();
    const slug = agentSlug(c.req.param("slug"));
    const input = await readJson(c, SendMessageInput);
    await deps.budget.assertWithinBudget(access.tenantId, deps.clock());
    // The stream place, the session's owner and the integrations' reads: one transaction.
    const admitted = await deps.admit(access, slug, input.sessionKey);
    try {
      return await sendMessage(access, slug, input, startedAt, admitted);
    } catch (error) {
      void releaseOnClose(admitted.lease)();
      throw error;
    }
  });

  async function sendMessage(access: TenantAccess, slug: string, input: SendMessageInput, startedAt: number, admitted: AdmittedMessage): Promise<Response> {
    const { tenantId } = access;
    const { session, integrations, lease } = admitted;
    let started;
    try {
      const { userId, apiKeyId } = access.actor;
      started = await deps.gateway.streams.startRun(tenantId, slug, { ...input, sessionKey: session.key, ...(integrations ? { integrations } : {}) }, { ...(userId ? { userId } : {}), ...(apiKeyId ? { apiKeyId } : {}) });
    } catch (error) {
      if (session.fresh) await deps.owners.forget(tenantId, slug, session.key);
      throw error;
    }
    const { info, subscription } = started;
    if (info.sessionKey !== session.key) {
      // A retried send (same idempotencyKey) answered with the run it started before, in that
      // run's session: the new key stays unused, and the earlier session must be the caller's too.
      if (session.fresh) await deps.owners.forget(tenantId, slug, session.key);
      try {
        await deps.owners.authorize(access, slug, info.sessionKey);
      } catch (error) {
        subscription.detach();
        throw error;
      }
    }
    return proxySse({
      subscription,
      tenantId,
      kind: "start",
      stats: deps.stats,
      heartbeat,
      startedAt,
      now: deps.now,
      onRunEnd: recordUsage(access.actor, tenantId, slug),
      ...recordApproval(tenantId, slug, info.sessionKey),
      onClose: releaseOnClose(lease),
      recover: recoverRun(tenantId, info.runId),
    });
  }

  /** A stream whose gateway connection dropped follows its run again, or ends it run_interrupted (chat/interrupted-run.ts). */
  const recoverRun =
    (tenantId: string, id: string) =>
    (lastSeq: number, signal: AbortSignal) =>
      resubscribeLost({ runId: id, lastSeq, signal, now: () => new Date(deps.now()), subscribe: (after) => deps.gateway.streams.subscribe(tenantId, id, after) });

  route("runs.events", async (c, access) => {
    const { tenantId } = access;
    const id = runId(c.req.param("runId"));
    const lastEventId = c.req.header("last-event-id")?.trim();
    const after = lastEventId ? parseWith(After, lastEventId, "Last-Event-ID") : parseWith(After.default(0), c.req.query("after"), "after");
    let found;
    try {
      found = await deps.gateway.getRun(tenantId, id);
    } catch (error) {
      // The browser saw events of this run (Last-Event-ID), and its gateway no longer knows it: it was cut off, not never there.
      if (after > 0 && isRunGone(error)) return interruptedRunResponse(id, after, new Date(deps.now()).toISOString());
      throw error;
    }
    const usageActor = await authorizeRun(access, found);
    return withStreamPlace(access, async (lease) => {
      // Through the gateway of its session, which most likely executes it (any gateway can serve it).
      const { info, subscription } = await deps.gateway.streams.subscribe(tenantId, id, after, { agent: found.agent, sessionKey: found.sessionKey });
      return proxySse({
        subscription,
        tenantId,
        kind: "resume",
        stats: deps.stats,
        heartbeat,
        startedAt: deps.now(),
        now: deps.now,
        onRunEnd: recordUsage(usageActor, tenantId, info.agent),
        ...recordApproval(tenantId, found.agent, found.sessionKey),
        onClose: releaseOnClose(lease),
        after,
        recover: recoverRun(tenantId, id),
      });
    });
  });

  route("runs.abort", async (c, access) => {
    const id = runId(c.req.param("runId"));
    await authorizeRun(access, await deps.gateway.getRun(access.tenantId, id));
    return c.json(await deps.gateway.abortRun(access.tenantId, id));
  });

  return app;
}
