import { AppError, type ErrorDetail, type GatewayRunInput, type RunInfo, type RunTrigger } from "@workforce/protocol";
import { assertWithinBudget } from "../budgets";
import type { SessionOwners } from "../chat/session-owners";
import type { Database, SystemDatabase } from "../db/schema";
import { withSystem } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";
import type { RunIntegrationsResolver } from "../integrations/run-integrations";

/*
 * Runs the platform starts on its own (issue 15): schedule firings, heartbeats, approval resumes.
 * They take a member's message's way (decision 032): the agent's integrations resolved now, the
 * budget and suspension checked, the session owned by the member on whose behalf it runs, and
 * the gateway's run started with an idempotency key, so a job run twice (its process died after
 * the gateway accepted) joins the first run on any gateway instead of starting a second.
 */

export interface PlatformRunRequest {
  tenantId: string;
  agent: string;
  /** The session it goes to: owned by `actorUserId` if nobody owns it yet. */
  sessionKey: string;
  message: string;
  /** Derived from the job (e.g. `schedule:{firingId}`): the same request always names the same run. */
  idempotencyKey: string;
  trigger: RunTrigger;
  /** The member on whose behalf it runs (who created the schedule, turned the heartbeat on, decided the approval). */
  actorUserId: string | null;
  /** More of the gateway's run body (heartbeat flag, …). */
  extra?: Partial<Omit<GatewayRunInput, "message" | "sessionKey" | "idempotencyKey" | "integrations" | "trigger">>;
}

/** Started (the gateway answered its run), or refused for a reason that a retry would not change. */
export type PlatformRunOutcome = { status: "started"; run: RunInfo } | { status: "refused"; error: ErrorDetail };

/** Codes that end a firing as refused: the organisation's state, not a passing failure. */
const REFUSALS = new Set(["budget_exceeded", "tenant_suspended", "agent_not_found", "agent_identity_missing", "model_key_required", "tenant_quota_exceeded", "validation_failed", "session_not_found"]);

export interface PlatformRunsDeps {
  db: Database;
  system: SystemDatabase;
  gateway: Pick<GatewayClient, "startRun">;
  owners: Pick<SessionOwners, "claim">;
  integrations?: RunIntegrationsResolver | undefined;
  now: () => Date;
}

export type FirePlatformRun = (request: PlatformRunRequest) => Promise<PlatformRunOutcome>;

export function createPlatformRuns(deps: PlatformRunsDeps): FirePlatformRun {
  async function assertActive(tenantId: string): Promise<void> {
    const tenant = await withSystem(deps.system, (trx) => trx.selectFrom("tenants").select(["suspended_at"]).where("id", "=", tenantId).executeTakeFirst());
    if (!tenant) throw new AppError("tenant_suspended", "The organisation no longer exists");
    if (tenant.suspended_at) throw new AppError("tenant_suspended", "The organisation is suspended; its agents do not run");
  }

  return async function firePlatformRun(request) {
    try {
      await assertActive(request.tenantId);
      await assertWithinBudget(deps.db, request.tenantId, deps.now());
      const actor = { userId: request.actorUserId, apiKeyId: null };
      await deps.owners.claim(request.tenantId, request.agent, request.sessionKey, actor);
      const integrations = await deps.integrations?.forRun(request.tenantId, request.agent);
      const run = await deps.gateway.startRun(
        request.tenantId,
        request.agent,
        {
          ...request.extra,
          message: request.message,
          sessionKey: request.sessionKey,
          idempotencyKey: request.idempotencyKey,
          trigger: request.trigger,
          ...(integrations ? { integrations } : {}),
        },
        request.actorUserId ? { userId: request.actorUserId } : {},
      );
      return { status: "started", run };
    } catch (error) {
      if (error instanceof AppError && REFUSALS.has(error.code)) return { status: "refused", error: { code: error.code, message: error.message } };
      throw error;
    }
  };
}
