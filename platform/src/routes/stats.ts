import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { StreamStats } from "../stream-stats";

/** `GET /api/stream/stats`: this instance's streaming counters. */
export function statsRoutes(deps: { stats: StreamStats }) {
  const app = new Hono<AppEnv>();
  app.get("/", (c) => c.json(deps.stats.snapshot(c.get("tenant").id)));
  return app;
}
