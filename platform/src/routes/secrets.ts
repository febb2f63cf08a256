import type { SecretView } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { TenantSecrets } from "../secrets/tenant-secrets";

/**
 * `GET /api/secrets`: the organisation's secrets by name, kind, hint and dates, and who set each
 * (owners and admins; API keys are refused). Never a value: the store cannot even read one here.
 */
export function secretRoutes(deps: { db: Database; secrets: TenantSecrets | undefined }) {
  const app = new Hono<AppEnv>();
  operationRoutes(app)("secrets.list", async (c, { tenantId }) => {
    const store = deps.secrets;
    const secrets: SecretView[] = !store
      ? []
      : await withTenant(deps.db, tenantId, async (trx) => {
          const listed = await store.list(trx, tenantId);
          const userIds = [...new Set(listed.flatMap((secret) => (secret.updatedBy ? [secret.updatedBy] : [])))];
          // Row-level security shows current members' emails only; a former member's stays null.
          const users = userIds.length === 0 ? [] : await trx.selectFrom("users").select(["id", "email"]).where("id", "in", userIds).execute();
          const emails = new Map(users.map((user) => [user.id, user.email]));
          return listed.map(({ updatedBy, ...secret }) => ({ ...secret, updatedBy: updatedBy ? { userId: updatedBy, email: emails.get(updatedBy) ?? null } : null }));
        });
    return c.json({ secrets });
  });
  return app;
}
