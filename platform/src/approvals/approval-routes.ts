import { ApprovalDecisionBody, ApprovalListStatus } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { operationRoutes, type TenantAccess } from "../auth/operation-route";
import type { Database, TenantTransaction } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { ApiLimiter } from "../limits/api-limits";
import { createStreamHeartbeat } from "../sse-proxy";
import { parseWith, readJson } from "../validation";
import type { ApprovalDecisions } from "./approval-decisions";
import { approvalEventStream, type ApprovalsWatcher } from "./approval-events";
import { approvalRows, approvalView, isOwnApproval } from "./approval-store";

export interface ApprovalRoutesDeps {
  db: Database;
  decisions: ApprovalDecisions;
  watcher: ApprovalsWatcher;
  /** Open streams per API key and per user, shared by every process (the live updates are one). */
  streams: Pick<ApiLimiter, "openStream">;
  heartbeatMs?: number | undefined;
  logError: (message: string, error: unknown) => void;
}

const Limit = z.coerce.number().int().min(1).max(200).default(100);
const ID = z.string().min(1).max(200);

/**
 * The organisation's approvals (decision 038): members see and decide those of their own
 * sessions, owners and admins everyone's. Mounted at /api.
 */
export function approvalRoutes(deps: ApprovalRoutesDeps) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);
  const heartbeat = createStreamHeartbeat(deps.heartbeatMs);

  /** The approvals the caller may see: their own sessions', or (owners and admins) all. */
  function visibleRows(trx: TenantTransaction, access: TenantAccess) {
    const rows = approvalRows(trx, access.tenantId);
    if (access.mayActOnOthers) return rows;
    return access.actor.userId ? rows.where("session_owners.user_id", "=", access.actor.userId) : rows.where("session_owners.api_key_id", "=", access.actor.apiKeyId);
  }

  async function pendingCount(trx: TenantTransaction, access: TenantAccess): Promise<number> {
    const row = await visibleRows(trx, access)
      .clearSelect()
      .select((eb) => eb.fn.countAll<string | number>().as("count"))
      .where("approvals.status", "=", "pending")
      .executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  // Before `approvals.get`: its `{id}` would take "count" and "events" for ids.
  route("approvals.count", async (c, access) => c.json({ pending: await withTenant(deps.db, access.tenantId, (trx) => pendingCount(trx, access)) }));

  route("approvals.events", async (_c, access) => {
    const lease = await deps.streams.openStream(access.principal, access.tenantId);
    const sees = access.mayActOnOthers ? () => true : (row: Parameters<typeof isOwnApproval>[0]) => isOwnApproval(row, access.actor);
    return approvalEventStream({ subscribe: (send) => deps.watcher.subscribe(access.tenantId, sees, send), heartbeat, lease, logError: deps.logError });
  });

  route("approvals.list", async (c, access) => {
    const status = parseWith(ApprovalListStatus.default("pending"), c.req.query("status"), "status");
    const limit = parseWith(Limit, c.req.query("limit"), "limit");
    const answer = await withTenant(deps.db, access.tenantId, async (trx) => {
      let rows = visibleRows(trx, access);
      if (status === "pending") rows = rows.where("approvals.status", "=", "pending").orderBy("approvals.requested_at");
      else if (status === "decided") rows = rows.where("approvals.status", "<>", "pending").orderBy("approvals.decided_at", "desc");
      else rows = rows.orderBy("approvals.requested_at", "desc");
      return { approvals: (await rows.limit(limit).execute()).map(approvalView), pending: await pendingCount(trx, access) };
    });
    return c.json(answer);
  });

  route("approvals.get", async (c, access) => c.json({ approval: approvalView(await deps.decisions.visible(access, parseWith(ID, c.req.param("id"), "id"))) }));

  for (const [id, decision] of [
    ["approvals.approve", "approve"],
    ["approvals.deny", "deny"],
  ] as const) {
    route(id, async (c, access) => {
      const approvalId = parseWith(ID, c.req.param("id"), "id");
      const { reason } = await readJson(c, ApprovalDecisionBody);
      return c.json({ approval: await deps.decisions.decide(access, approvalId, decision, reason) });
    });
  }

  return app;
}
