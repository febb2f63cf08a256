import { AppError, SearchQuery } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import type { SessionOwners } from "../chat/session-owners";
import { audit } from "../db/audit";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import { parseWith } from "../validation";
import { searchSessions } from "./session-search";

/**
 * `GET /api/search`: full-text search over the organisation's chats (issue 16, decision 043), by
 * the sessions list's rule: the caller's own; everyone's (`owner=all`) for owners and admins,
 * audited like listing everyone's sessions.
 */
export function searchRoutes(deps: { db: Database; owners: Pick<SessionOwners, "view"> }) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  route("sessions.search", async (c, access) => {
    const query = parseWith(SearchQuery, { q: c.req.query("q") ?? "", owner: c.req.query("owner"), limit: c.req.query("limit") });
    if (query.owner === "all" && !access.mayActOnOthers) throw new AppError("forbidden", "Only owners and admins can search everyone's chats (owner=all)");
    const results = await withTenant(deps.db, access.tenantId, async (trx) => {
      const found = await searchSessions(trx, access.tenantId, access.actor, query, deps.owners.view);
      if (query.owner === "all") await audit(trx, { tenantId: access.tenantId, actor: access.actor, action: "session.search_all", target: "sessions", details: { results: found.length } });
      return found;
    });
    return c.json({ results });
  });

  return app;
}
