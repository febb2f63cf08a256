import { TenantPolicy } from "@workforce/protocol";
import { Hono } from "hono";
import type { DiskUsage } from "../../tenants/disk-usage";
import type { EraseTenant } from "../../tenants/tenant-erasure";
import type { TenantPolicies } from "../../tenants/tenant-policy";
import type { GatewayEnv } from "../gateway-env";
import { readJsonBody } from "../request-input";

export interface TenantRouteDeps {
  eraseTenant: EraseTenant;
  policies: TenantPolicies;
  disk: Pick<DiskUsage, "status">;
}

/** `/v1/tenant`: the tenant as a whole. */
export function tenantRoutes(deps: TenantRouteDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();

  // Erasure: aborts the tenant's runs, forgets its cached state and removes TENANT_DATA_DIR/{tenant}. 204 also when nothing existed.
  app.delete("/", async (c) => {
    await deps.eraseTenant(c.get("tenantId"));
    return c.body(null, 204);
  });

  // The policy in force (pushed by the platform, or this gateway's defaults) and the platform's push.
  app.get("/policy", async (c) => c.json(await deps.policies.get(c.get("tenantId"))));
  app.put("/policy", async (c) => {
    const policy = await readJsonBody(c, TenantPolicy);
    return c.json(await deps.policies.put(c.get("tenantId"), policy));
  });

  // Bytes the tenant's files take and its quota (limits.diskBytes, null: none).
  app.get("/disk", async (c) => c.json(await deps.disk.status(c.get("tenantId"))));

  return app;
}
