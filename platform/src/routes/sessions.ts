import { AppError, SessionKey, SessionUpdate } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { GatewayClient } from "../gateway-client";
import { readJson } from "../validation";
import { agentSlug } from "./agents";

function sessionKey(value: string): string {
  if (!SessionKey.safeParse(value).success) throw new AppError("session_not_found", `No session "${value.slice(0, 80)}"`);
  return value;
}

/** An agent's sessions, mounted at /api/agents/:slug/sessions. */
export function sessionRoutes(deps: { gateway: GatewayClient }) {
  const app = new Hono<AppEnv>();

  app.get("/:slug/sessions", async (c) => {
    return c.json({ sessions: await deps.gateway.listSessions(c.get("tenant").id, agentSlug(c.req.param("slug"))) });
  });

  app.get("/:slug/sessions/:key", async (c) => {
    const history = await deps.gateway.getSession(c.get("tenant").id, agentSlug(c.req.param("slug")), sessionKey(c.req.param("key")));
    return c.json(history);
  });

  app.patch("/:slug/sessions/:key", async (c) => {
    const { title } = await readJson(c, SessionUpdate);
    const session = await deps.gateway.renameSession(c.get("tenant").id, agentSlug(c.req.param("slug")), sessionKey(c.req.param("key")), title);
    return c.json({ session });
  });

  app.delete("/:slug/sessions/:key", async (c) => {
    await deps.gateway.deleteSession(c.get("tenant").id, agentSlug(c.req.param("slug")), sessionKey(c.req.param("key")));
    return c.body(null, 204);
  });

  return app;
}
