import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import type { StreamStats } from "../stream-stats";

/** `GET /api/stream/stats`: streaming figures of every live platform instance, with the caller's tenant's share. */
export function statsRoutes(deps: { stats: StreamStats }) {
  const app = new Hono<AppEnv>();
  operationRoutes(app)("stream.stats", async (c, { tenantId }) => c.json(await deps.stats.snapshot(tenantId)));
  return app;
}
