import { AppError } from "@workforce/protocol";
import { Hono } from "hono";
import { mayCreateOrganisation, type SignupPolicy } from "../auth/signup-policy";
import { accountFlags } from "./me";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { listMemberships } from "../auth/authenticate";
import { operationRoutes } from "../auth/operation-route";
import { audit } from "../db/audit";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { Tenancy } from "../tenancy";
import { readJson } from "../validation";

export const TenantInput = z.object({ name: z.string({ message: "is required" }).trim().min(1, "is required").max(100) });

/** `/api/tenants`: my organisations and creating another; `/api/tenant`: renaming the current one. */
export function tenantRoutes(deps: { db: Database; tenancy: Tenancy; signup: SignupPolicy }) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  route("tenants.list", async (c, { user }) => c.json({ tenants: await listMemberships(deps.db, user.id) }));

  route("tenants.create", async (c, { user }) => {
    const { name } = await readJson(c, TenantInput);
    const flags = await accountFlags(deps.db, user.id);
    if (!mayCreateOrganisation(deps.signup, { email: flags.email, isOperator: flags.operator })) {
      throw new AppError("forbidden", "On this installation only its operator creates organisations; ask them, or an owner to invite you");
    }
    return c.json({ tenant: await deps.tenancy.createTenant(user.id, name) }, 201);
  });

  route("tenant.rename", async (c, { tenantId, role, actor }) => {
    const { name } = await readJson(c, TenantInput);
    const tenant = await withTenant(deps.db, tenantId, async (trx) => {
      const updated = await trx.updateTable("tenants").set({ name }).where("id", "=", tenantId).returning(["id", "name"]).executeTakeFirstOrThrow();
      await audit(trx, { tenantId, actor, action: "tenant.rename", target: tenantId, details: { name } });
      return updated;
    });
    return c.json({ tenant: { ...tenant, role } });
  });

  return app;
}
