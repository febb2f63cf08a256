import { AppError, SessionKey, SessionUpdate } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { actorOf, requireScope, tenantOf } from "../auth/authenticate";
import { audit } from "../db/audit";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";
import { sessionToMarkdown } from "../session-markdown";
import { parseWith, readJson } from "../validation";
import { agentSlug } from "./agents";

function sessionKey(value: string): string {
  if (!SessionKey.safeParse(value).success) throw new AppError("session_not_found", `No session "${value.slice(0, 80)}"`);
  return value;
}

const ExportFormat = z.enum(["json", "markdown"], { message: "must be 'json' or 'markdown'" }).default("json");

/** An agent's sessions, mounted at /api/agents: list, history, rename, delete, export. */
export function sessionRoutes(deps: { db: Database; gateway: GatewayClient }) {
  const app = new Hono<AppEnv>();

  app.get("/:slug/sessions", async (c) => {
    requireScope(c, "sessions:read");
    return c.json({ sessions: await deps.gateway.listSessions(tenantOf(c).id, agentSlug(c.req.param("slug"))) });
  });

  app.get("/:slug/sessions/:key", async (c) => {
    requireScope(c, "sessions:read");
    return c.json(await deps.gateway.getSession(tenantOf(c).id, agentSlug(c.req.param("slug")), sessionKey(c.req.param("key"))));
  });

  app.get("/:slug/sessions/:key/export", async (c) => {
    requireScope(c, "sessions:read");
    const tenantId = tenantOf(c).id;
    const slug = agentSlug(c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    const format = parseWith(ExportFormat, c.req.query("format"), "format");
    const history = await deps.gateway.getSession(tenantId, slug, key);
    const filename = `${slug}-${key.replace(/[^A-Za-z0-9._-]/g, "_")}`;
    if (format === "json") {
      c.header("content-disposition", `attachment; filename="${filename}.json"`);
      return c.json(history);
    }
    const agent = await deps.gateway.getAgent(tenantId, slug);
    c.header("content-disposition", `attachment; filename="${filename}.md"`);
    c.header("content-type", "text/markdown; charset=utf-8");
    return c.body(sessionToMarkdown(history, agent.name));
  });

  app.patch("/:slug/sessions/:key", async (c) => {
    requireScope(c, "sessions:write");
    const tenantId = tenantOf(c).id;
    const slug = agentSlug(c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    const { title } = await readJson(c, SessionUpdate);
    const session = await deps.gateway.renameSession(tenantId, slug, key, title);
    await withTenant(deps.db, tenantId, (trx) =>
      audit(trx, { tenantId, actor: actorOf(c), action: "session.rename", target: `${slug}/${key}`, details: { title } }),
    );
    return c.json({ session });
  });

  app.delete("/:slug/sessions/:key", async (c) => {
    requireScope(c, "sessions:write");
    const tenantId = tenantOf(c).id;
    const slug = agentSlug(c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    await deps.gateway.deleteSession(tenantId, slug, key);
    await withTenant(deps.db, tenantId, (trx) => audit(trx, { tenantId, actor: actorOf(c), action: "session.delete", target: `${slug}/${key}` }));
    return c.body(null, 204);
  });

  return app;
}
