import type { ModelCatalogue } from "@workforce/protocol";
import { Hono } from "hono";
import type { GatewayEnv } from "../gateway-env";

/** Deployment-wide, not about a tenant: hook token only, no X-Tenant-ID. */
export const MODELS_PATH = "/v1/models";

/** `GET /v1/models`: the models this gateway can serve (its providers' lists, cached, and the offline model). */
export function modelsRoute(catalogue: () => Promise<ModelCatalogue>): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get("/", async (c) => c.json(await catalogue()));
  return app;
}
