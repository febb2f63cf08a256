import { randomUUID } from "node:crypto";
import {
  AppError,
  DEFAULT_HEARTBEAT_EVERY_MINUTES,
  DEFAULT_HEARTBEAT_SESSION_KEY,
  ErrorCode,
  HeartbeatSettingsUpdate,
  type HeartbeatFile,
  type HeartbeatRunStarted,
  type HeartbeatView,
} from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import { audit } from "../db/audit";
import type { Database, TenantTransaction } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";
import type { FirePlatformRun } from "../jobs/fire-run";
import { activeHoursOf, alignedDue, fireHeartbeat, type HeartbeatRow } from "../jobs/heartbeats";
import { readJson } from "../validation";
import { agentSlug } from "./agents";

export interface HeartbeatRouteDeps {
  db: Database;
  gateway: Pick<GatewayClient, "getAgent" | "heartbeatFile" | "setHeartbeatFile">;
  now: () => Date;
  firePlatformRun: FirePlatformRun;
}

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

function viewOf(agent: string, row: (HeartbeatRow & { enabled_by_email: string | null }) | undefined, file: HeartbeatFile): HeartbeatView {
  return {
    agent,
    enabled: row?.enabled ?? false,
    everyMinutes: row?.every_minutes ?? DEFAULT_HEARTBEAT_EVERY_MINUTES,
    activeHours: row ? activeHoursOf(row) : null,
    timeZone: row?.time_zone ?? "UTC",
    sessionKey: row?.session_key ?? DEFAULT_HEARTBEAT_SESSION_KEY,
    enabledBy: row?.enabled_by ? { userId: row.enabled_by, email: row.enabled_by_email } : null,
    nextDueAt: row?.enabled ? iso(row.next_due_at) : null,
    counts: { ok: row?.ok_count ?? 0, alert: row?.alert_count ?? 0, skipped: row?.skipped_count ?? 0, failed: row?.failed_count ?? 0, refused: row?.refused_count ?? 0 },
    last:
      row?.last_outcome && row.last_at
        ? {
            outcome: row.last_outcome,
            at: new Date(row.last_at).toISOString(),
            runId: row.last_run_id,
            error: row.last_error_code ? { code: row.last_error_code, message: row.last_error_message ?? "" } : null,
          }
        : null,
    lastAlert:
      row && row.last_alert_text !== null && row.last_alert_at && row.last_alert_run_id
        ? { text: row.last_alert_text, at: new Date(row.last_alert_at).toISOString(), runId: row.last_alert_run_id }
        : null,
    file,
  };
}

function readRow(trx: TenantTransaction, tenantId: string, slug: string) {
  return trx
    .selectFrom("agent_heartbeats")
    .leftJoin("users", "users.id", "agent_heartbeats.enabled_by")
    .selectAll("agent_heartbeats")
    .select("users.email as enabled_by_email")
    .where("agent_heartbeats.tenant_id", "=", tenantId)
    .where("agent_heartbeats.agent_slug", "=", slug)
    .executeTakeFirst();
}

/** The agent's row the heartbeat hangs off (agents created through the gateway directly have none yet). */
async function ensureAgentRow(trx: TenantTransaction, tenantId: string, slug: string, name: string, now: Date): Promise<void> {
  await trx
    .insertInto("agents")
    .values({ tenant_id: tenantId, slug, name, created_at: now, updated_at: now })
    .onConflict((conflict) => conflict.columns(["tenant_id", "slug"]).doNothing())
    .execute();
}

/** `/api/agents/{slug}/heartbeat`: an agent's heartbeat settings, HEARTBEAT.md and what came of it; run it now. */
export function heartbeatRoutes(deps: HeartbeatRouteDeps) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  route("heartbeat.get", async (c, { tenantId }) => {
    const slug = agentSlug(c.req.param("slug"));
    // An agent of another organisation (or none) is 404, from the gateway.
    await deps.gateway.getAgent(tenantId, slug);
    const file = await deps.gateway.heartbeatFile(tenantId, slug);
    const row = await withTenant(deps.db, tenantId, (trx) => readRow(trx, tenantId, slug));
    return c.json(viewOf(slug, row, file));
  });

  route("heartbeat.update", async (c, { tenantId, actor }) => {
    const slug = agentSlug(c.req.param("slug"));
    const update = await readJson(c, HeartbeatSettingsUpdate);
    const agent = await deps.gateway.getAgent(tenantId, slug);
    // The file first: a refused write (disk quota) changes no setting.
    const file = update.content === undefined ? await deps.gateway.heartbeatFile(tenantId, slug) : await deps.gateway.setHeartbeatFile(tenantId, slug, update.content);
    const row = await withTenant(deps.db, tenantId, async (trx) => {
      const now = deps.now();
      await ensureAgentRow(trx, tenantId, slug, agent.name, now);
      const current = await trx.selectFrom("agent_heartbeats").selectAll().where("tenant_id", "=", tenantId).where("agent_slug", "=", slug).forUpdate().executeTakeFirst();
      const hours = update.activeHours === undefined ? (current ? activeHoursOf(current) : null) : update.activeHours;
      const settings = {
        enabled: update.enabled ?? current?.enabled ?? false,
        every_minutes: update.everyMinutes ?? current?.every_minutes ?? DEFAULT_HEARTBEAT_EVERY_MINUTES,
        active_start: hours?.start ?? null,
        active_end: hours?.end ?? null,
        time_zone: update.timeZone ?? current?.time_zone ?? "UTC",
        session_key: update.sessionKey ?? current?.session_key ?? DEFAULT_HEARTBEAT_SESSION_KEY,
        // Whoever turns it on is whom its runs are for.
        enabled_by: update.enabled === true ? actor.userId : (current?.enabled_by ?? null),
      };
      const rescheduled = !current?.enabled || update.everyMinutes !== undefined || update.activeHours !== undefined || update.timeZone !== undefined;
      const nextDue = !settings.enabled ? null : rescheduled ? alignedDue(settings, new Date(now.getTime() + settings.every_minutes * 60_000)) : (current?.next_due_at ?? null);
      await trx
        .insertInto("agent_heartbeats")
        .values({ tenant_id: tenantId, agent_slug: slug, ...settings, next_due_at: nextDue, created_at: now, updated_at: now, updated_by: actor.userId })
        .onConflict((conflict) => conflict.columns(["tenant_id", "agent_slug"]).doUpdateSet({ ...settings, next_due_at: nextDue, updated_at: now, updated_by: actor.userId }))
        .execute();
      const { content, ...fields } = update;
      await audit(trx, {
        tenantId,
        actor,
        action: "heartbeat.update",
        target: slug,
        details: { ...fields, ...(content === undefined ? {} : { heartbeatFileChars: content.length }) },
      });
      return readRow(trx, tenantId, slug);
    });
    return c.json(viewOf(slug, row, file));
  });

  route("heartbeat.run", async (c, { tenantId, actor }) => {
    const slug = agentSlug(c.req.param("slug"));
    const agent = await deps.gateway.getAgent(tenantId, slug);
    const now = deps.now();
    const row = await withTenant(deps.db, tenantId, async (trx) => {
      await ensureAgentRow(trx, tenantId, slug, agent.name, now);
      await trx.insertInto("agent_heartbeats").values({ tenant_id: tenantId, agent_slug: slug, created_at: now, updated_at: now, updated_by: actor.userId }).onConflict((conflict) => conflict.columns(["tenant_id", "agent_slug"]).doNothing()).execute();
      await audit(trx, { tenantId, actor, action: "heartbeat.run", target: slug });
      return trx.selectFrom("agent_heartbeats").selectAll().where("tenant_id", "=", tenantId).where("agent_slug", "=", slug).executeTakeFirstOrThrow();
    });
    const firing = `manual:${randomUUID()}`;
    const outcome = await fireHeartbeat(deps, row, now, { actorUserId: actor.userId, firingId: firing, idempotencyKey: `heartbeat:${tenantId}:${slug}:${firing}` });
    if (outcome.status === "refused") {
      const code = ErrorCode.safeParse(outcome.error.code);
      throw new AppError(code.success ? code.data : "conflict", outcome.error.message);
    }
    const started: HeartbeatRunStarted = { runId: outcome.run.runId, sessionKey: outcome.run.sessionKey };
    return c.json(started, 202);
  });

  return app;
}
