import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireScope, tenantOf } from "../auth/authenticate";
import type { StreamStats } from "../stream-stats";

/** `GET /api/stream/stats`: streaming figures of every live platform instance, with the caller's tenant's share. */
export function statsRoutes(deps: { stats: StreamStats }) {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => {
    requireScope(c, "usage:read");
    return c.json(await deps.stats.snapshot(tenantOf(c).id));
  });
  return app;
}
