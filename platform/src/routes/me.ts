import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { listMemberships } from "../auth/authenticate";
import { operationRoutes } from "../auth/operation-route";
import type { Database } from "../db/schema";
import type { GatewayClient } from "../gateway-client";

/** `GET /api/me`: who I am, my organisations, and which model answers (from the gateway). */
export function meRoutes(deps: { db: Database; gateway: GatewayClient }) {
  const app = new Hono<AppEnv>();
  operationRoutes(app)("account.me", async (c, { user }) => {
    const [tenants, health] = await Promise.all([listMemberships(deps.db, user.id), deps.gateway.health()]);
    return c.json({ user: { id: user.id, email: user.email }, tenants, model: health.model });
  });
  return app;
}
