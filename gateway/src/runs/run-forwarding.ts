import {
  ACTOR_API_KEY_HEADER,
  ACTOR_USER_HEADER,
  ApiErrorBody,
  AppError,
  ErrorCode,
  FORWARDED_BY_HEADER,
  HOOK_TOKEN_HEADER,
  RUN_SOURCE_HEADER,
  RunInfo,
  TENANT_HEADER,
  type ClusterMember,
  type ApprovalDecisionInput,
  type RunOrigin,
} from "@workforce/protocol";
import { REQUEST_ID_HEADER } from "@workforce/logging";
import type { Leases } from "../coordination/leases";
import type { Membership } from "../coordination/membership";
import type { LogContext, Logger } from "../logger";
import type { SessionStore } from "../sessions/session-store";
import type { RunInput, RunManager, SubmittedRun } from "./run-manager";

export type { SubmittedRun };

export interface SubmitOptions {
  /** Set when another gateway forwarded this submit: run it here, never forward again. */
  forwarded?: boolean;
}

/** What every entry point (HTTP, WebSocket, hooks, OpenAI-compatible) calls to start a run. */
export type SubmitRun = (tenantId: string, agent: string, input: RunInput, origin: RunOrigin, options?: SubmitOptions) => Promise<SubmittedRun>;

/** Submits here only: a lone gateway, and tests of the entry points. */
export function localSubmit(runs: Pick<RunManager, "submit">): SubmitRun {
  return (tenantId, agent, input, origin) => runs.submit(tenantId, agent, input, origin);
}

export interface RunForwardingDeps {
  runs: Pick<RunManager, "submit" | "info" | "abort" | "locate">;
  sessions: Pick<SessionStore, "get">;
  /** Who holds a session's run lease (`run:{tenantId}/{agent}/{sessionId}`). */
  leases: Pick<Leases, "holder">;
  membership: Pick<Membership, "memberId" | "members">;
  hookToken: string | undefined;
  logger: Logger;
  logContext?: LogContext | undefined;
  fetch?: typeof fetch;
  /** Time limit for the holder to accept the run. */
  timeoutMs?: number;
  /** How long to wait for the forwarded run to appear in the relay (it is published as it is queued). */
  locateTimeoutMs?: number;
}

/**
 * Routing instead of contention (decision 027): a message for a session whose run lease another
 * live gateway holds goes to that gateway (same idempotency key, request id and actor), and is
 * served here through the run relay, instead of waiting here for the lease with a concurrency
 * slot held. Anything uncertain (no session yet, Redis unreachable, the holder gone or refusing the
 * connection) falls back to running here: the lease still keeps the session's runs one at a time.
 */
export function forwardingSubmit(deps: RunForwardingDeps): SubmitRun {
  const local = localSubmit(deps.runs);
  const doFetch = deps.fetch ?? fetch;

  async function holderElsewhere(tenantId: string, agent: string, sessionKey: string): Promise<ClusterMember | undefined> {
    try {
      const session = await deps.sessions.get({ tenantId, agent }, sessionKey);
      const holder = await deps.leases.holder(`run:${tenantId}/${agent}/${session.sessionId}`);
      if (holder === undefined || holder === deps.membership.memberId) return undefined;
      return (await deps.membership.members()).find((member) => member.memberId === holder);
    } catch (error) {
      // session_not_found (a new session holds no lease) or coordination unreachable: run here.
      if (!(error instanceof AppError && error.code === "session_not_found")) {
        deps.logger.warn(`run forwarding: could not tell who holds session ${sessionKey}'s lease, running it here (${error instanceof Error ? error.message : String(error)})`);
      }
      return undefined;
    }
  }

  async function forward(member: ClusterMember, tenantId: string, agent: string, input: RunInput, origin: RunOrigin): Promise<SubmittedRun | undefined> {
    const requestId = deps.logContext?.current()?.requestId;
    const { path, body } = forwardedRequest(agent, input);
    let response: Response;
    try {
      response = await doFetch(`${member.url}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          [TENANT_HEADER]: tenantId,
          [FORWARDED_BY_HEADER]: deps.membership.memberId,
          [RUN_SOURCE_HEADER]: origin.source,
          ...(deps.hookToken ? { authorization: `Bearer ${deps.hookToken}`, [HOOK_TOKEN_HEADER]: deps.hookToken } : {}),
          ...(requestId ? { [REQUEST_ID_HEADER]: requestId } : {}),
          ...(origin.userId ? { [ACTOR_USER_HEADER]: origin.userId } : {}),
          ...(origin.apiKeyId ? { [ACTOR_API_KEY_HEADER]: origin.apiKeyId } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(deps.timeoutMs ?? 30_000),
      });
    } catch (error) {
      deps.logger.warn(`run forwarding: ${member.memberId} at ${member.url} holds the session but is unreachable, running it here (${error instanceof Error ? error.message : String(error)})`);
      return undefined;
    }
    if (!response.ok) throw await refusal(response);
    const info = RunInfo.safeParse(await response.json().catch(() => undefined));
    if (!info.success) throw new AppError("gateway_error", `gateway ${member.memberId} answered a forwarded run with an unexpected body`);
    const located = await locateForwarded(tenantId, info.data.runId);
    return { runId: info.data.runId, sessionKey: info.data.sessionKey, info: () => located.info(), events: located.events, abort: () => located.abort() };
  }

  /** The holder published the run as it queued it; its first write may still be on the way to Redis. */
  async function locateForwarded(tenantId: string, runId: string) {
    const deadline = Date.now() + (deps.locateTimeoutMs ?? 5_000);
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      try {
        return await deps.runs.locate(tenantId, runId);
      } catch (error) {
        if (!(error instanceof AppError && error.code === "run_not_found") || Date.now() > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  return async (tenantId, agent, input, origin, options = {}) => {
    if (options.forwarded || input.sessionKey === undefined) return local(tenantId, agent, input, origin);
    const member = await holderElsewhere(tenantId, agent, input.sessionKey);
    const forwarded = member ? await forward(member, tenantId, agent, input, origin) : undefined;
    if (forwarded) deps.logger.info(`run ${forwarded.runId} forwarded to ${member?.memberId}, which holds its session`);
    return forwarded ?? local(tenantId, agent, input, origin);
  };
}

/** Where the holder takes the run: a message to the agent's runs, a decision (issue 15) to the session's approval. */
function forwardedRequest(agent: string, input: RunInput): { path: string; body: unknown } {
  const slug = encodeURIComponent(agent);
  if (!("resume" in input)) return { path: `/v1/agents/${slug}/runs`, body: input };
  const { approvalId, decision, timedOut, reason } = input.resume;
  const body: ApprovalDecisionInput = {
    decision,
    ...(timedOut ? { timedOut } : {}),
    ...(reason ? { reason } : {}),
    ...(input.integrations ? { integrations: input.integrations } : {}),
    ...(input.trigger ? { trigger: input.trigger } : {}),
  };
  return { path: `/v1/agents/${slug}/sessions/${encodeURIComponent(input.sessionKey)}/approvals/${encodeURIComponent(approvalId)}`, body };
}

/** The holder's refusal (queue full, budget, validation…) is the caller's answer, with its code and status. */
async function refusal(response: Response): Promise<AppError> {
  const body = ApiErrorBody.safeParse(await response.json().catch(() => undefined));
  const code = ErrorCode.safeParse(body.data?.error.code);
  if (body.success && code.success) {
    const { message, retryable } = body.data.error;
    return new AppError(code.data, message, { status: response.status, ...(retryable === undefined ? {} : { retryable }) });
  }
  return new AppError("gateway_error", `the gateway holding this session refused the run (HTTP ${response.status})`);
}
