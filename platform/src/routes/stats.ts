import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireScope, tenantOf } from "../auth/authenticate";
import type { StreamStats } from "../stream-stats";

/** `GET /api/stream/stats`: this instance's streaming counters. */
export function statsRoutes(deps: { stats: StreamStats }) {
  const app = new Hono<AppEnv>();
  app.get("/", (c) => {
    requireScope(c, "usage:read");
    return c.json(deps.stats.snapshot(tenantOf(c).id));
  });
  return app;
}
