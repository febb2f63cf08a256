import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { requireAdmin } from "../auth/authenticate";
import type { Database } from "../db/schema";
import { withTenant } from "../db/with-tenant";
import { parseWith } from "../validation";

const Limit = z.coerce.number({ message: "must be a number" }).int().min(1).max(500).default(100);

/** `GET /api/audit`: the organisation's audit log, newest first (owners/admins). */
export function auditRoutes(deps: { db: Database }) {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => {
    const { tenantId } = requireAdmin(c);
    const limit = parseWith(Limit, c.req.query("limit"), "limit");
    const rows = await withTenant(deps.db, tenantId, (trx) =>
      trx.selectFrom("audit_log").selectAll().orderBy("created_at", "desc").orderBy("id", "desc").limit(limit).execute(),
    );
    return c.json({
      entries: rows.map((row) => ({
        id: row.id,
        action: row.action,
        target: row.target,
        actor: row.actor_api_key_id ? { type: "api-key", id: row.actor_api_key_id } : { type: "user", id: row.actor_user_id },
        details: row.details,
        createdAt: row.created_at.toISOString(),
      })),
    });
  });
  return app;
}
