import { UUID_PATTERN } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import { parseWith } from "../validation";

const isoInstant = z.iso.datetime({ offset: true, message: "must be an ISO date-time such as 2026-12-01T00:00:00Z" }).transform((value) => new Date(value));

export const AuditQuery = z.object({
  limit: z.coerce.number({ message: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").max(500, "must be at most 500").default(100),
  /** `nextCursor` of the previous page. */
  cursor: z
    .string()
    .regex(/^[0-9]{1,18}$/, "must be the nextCursor of a previous page")
    .optional(),
  /** Only entries with this action, e.g. `agent.create`; `agent.` matches every agent action. */
  action: z
    .string()
    .regex(/^[a-z_]+(\.[a-z_]*)?$/, "must look like 'agent.create' or 'agent.'")
    .optional(),
  /** Only entries by this person (a user id) or API key (its id). */
  actor: z.string().regex(UUID_PATTERN, "must be the id of a member or an API key").optional(),
  /** Only entries at or after this instant (an ISO date-time, e.g. `2026-12-01T00:00:00Z`). */
  since: isoInstant.optional(),
  /** Only entries before this instant (exclusive). */
  until: isoInstant.optional(),
});

export interface AuditEntryView {
  id: string;
  action: string;
  target: string;
  actor: { type: "user" | "api-key"; id: string | null; email: string | null };
  details: Record<string, unknown>;
  createdAt: string;
}

/** `GET /api/audit`: the organisation's audit log, newest first, a page at a time (owners/admins). */
export function auditRoutes(deps: { db: Database }) {
  const app = new Hono<AppEnv>();
  operationRoutes(app)("audit.list", async (c, { tenantId }) => {
    const query = parseWith(AuditQuery, c.req.query());
    const rows = await withTenant(deps.db, tenantId, (trx) => {
      let select = trx
        .selectFrom("audit_log")
        // Row-level security shows current members' emails only; former members' stay null.
        .leftJoin("users", "users.id", "audit_log.actor_user_id")
        .select([
          "audit_log.id",
          "audit_log.seq",
          "audit_log.action",
          "audit_log.target",
          "audit_log.actor_user_id",
          "audit_log.actor_api_key_id",
          "audit_log.details",
          "audit_log.created_at",
          "users.email",
        ])
        .where("audit_log.tenant_id", "=", tenantId)
        .orderBy("audit_log.seq", "desc")
        .limit(query.limit + 1);
      if (query.cursor) select = select.where("audit_log.seq", "<", query.cursor);
      if (query.action?.endsWith(".")) select = select.where("audit_log.action", "like", `${query.action.replace(/_/g, "\\_")}%`);
      else if (query.action) select = select.where("audit_log.action", "=", query.action);
      const { actor, since, until } = query;
      if (actor) select = select.where((where) => where.or([where("audit_log.actor_user_id", "=", actor), where("audit_log.actor_api_key_id", "=", actor)]));
      if (since) select = select.where("audit_log.created_at", ">=", since);
      if (until) select = select.where("audit_log.created_at", "<", until);
      return select.execute();
    });
    const page = rows.slice(0, query.limit);
    const entries: AuditEntryView[] = page.map((row) => ({
      id: row.id,
      action: row.action,
      target: row.target,
      actor: row.actor_api_key_id
        ? { type: "api-key", id: row.actor_api_key_id, email: null }
        : { type: "user", id: row.actor_user_id, email: row.email ?? null },
      details: row.details,
      createdAt: row.created_at.toISOString(),
    }));
    const last = page.at(-1);
    return c.json({ entries, nextCursor: rows.length > query.limit && last ? String(last.seq) : null });
  });
  return app;
}
