import type { GatewayCapabilities } from "@workforce/protocol";
import { Hono } from "hono";
import type { GatewayEnv } from "../gateway-env";

/** Deployment-wide, not about a tenant: hook token only, no X-Tenant-ID. */
export const CAPABILITIES_PATH = "/v1/capabilities";

/** `GET /v1/capabilities`: what the operator configured this gateway to offer runs (web fetch, web search's provider). */
export function capabilitiesRoute(capabilities: GatewayCapabilities): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get("/", (c) => c.json(capabilities));
  return app;
}
