import type { ApprovalRequiredEvent } from "@workforce/protocol";
import type { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { Database } from "../db/schema";
import type { GatewayClient } from "../gateway-client";
import type { RunIntegrationsResolver } from "../integrations/run-integrations";
import type { JobRunner } from "../jobs/job-queue";
import type { ApiLimiter } from "../limits/api-limits";
import { createApprovalDecisions } from "./approval-decisions";
import { createApprovalsWatcher } from "./approval-events";
import { recordStreamedApproval } from "./approval-ingest";
import { approvalRoutes } from "./approval-routes";
import { EXPIRE_JOB, RESUME_JOB } from "./approval-store";

/** WORKFORCE_APPROVAL_TIMEOUT_MINUTES unset: an approval nobody decides is denied after an hour. */
export const DEFAULT_APPROVAL_TIMEOUT_MINUTES = 60;

export interface ApprovalsDeps {
  db: Database;
  gateway: Pick<GatewayClient, "decideApproval">;
  integrations?: RunIntegrationsResolver | undefined;
  /** Its timeout and resume jobs are registered here. */
  jobs: Pick<JobRunner, "register">;
  streams: Pick<ApiLimiter, "openStream">;
  now: () => Date;
  logError: (message: string, error: unknown) => void;
  /** How long an approval waits for a decision before it is denied. */
  timeoutMs: number;
  /** Reads a tenant's usage journal now (the usage ingest's `sync`). */
  sync: (tenantId: string) => Promise<void>;
  heartbeatMs?: number | undefined;
  /** How often live updates re-read an organisation's approvals (default 1 s). */
  pollMs?: number;
}

/** Tool approvals on the platform (decision 038), as compose-platform.ts wires them in. */
export interface Approvals {
  /** Mounted at /api. */
  routes: Hono<AppEnv>;
  /** The chat stream passed an `approval-required` event of this session's run: record it now. */
  streamed: (tenantId: string, session: { agent: string; sessionKey: string }, event: ApprovalRequiredEvent) => Promise<void>;
  /** Stops the live updates' polling (at shutdown). */
  close(): void;
}

export function createApprovals(deps: ApprovalsDeps): Approvals {
  const decisions = createApprovalDecisions(deps);
  deps.jobs.register(EXPIRE_JOB, decisions.expire);
  deps.jobs.register(RESUME_JOB, decisions.resume);
  const watcher = createApprovalsWatcher({ db: deps.db, logError: deps.logError, ...(deps.pollMs === undefined ? {} : { pollMs: deps.pollMs }) });
  return {
    routes: approvalRoutes({ db: deps.db, decisions, watcher, streams: deps.streams, heartbeatMs: deps.heartbeatMs, logError: deps.logError }),
    streamed: recordStreamedApproval(deps),
    close: () => watcher.close(),
  };
}
