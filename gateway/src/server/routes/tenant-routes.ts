import { Hono } from "hono";
import type { EraseTenant } from "../../tenants/tenant-erasure";
import type { GatewayEnv } from "../gateway-env";

export interface TenantRouteDeps {
  eraseTenant: EraseTenant;
}

/** `/v1/tenant`: the tenant as a whole. */
export function tenantRoutes(deps: TenantRouteDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();

  // Erasure: aborts the tenant's runs, forgets its cached state and removes TENANT_DATA_DIR/{tenant}. 204 also when nothing existed.
  app.delete("/", async (c) => {
    await deps.eraseTenant(c.get("tenantId"));
    return c.body(null, 204);
  });

  return app;
}
