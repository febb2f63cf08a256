import { AppError, UUID_PATTERN } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import { SCOPES, type AppEnv, type Scope } from "../app-env";
import type { AuthCache } from "../auth/auth-cache";
import { operationRoutes } from "../auth/operation-route";
import { newApiKey } from "../auth/api-key-secret";
import { audit } from "../db/audit";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import { readJson } from "../validation";

export const KeyInput = z.object({
  name: z.string({ message: "is required" }).trim().min(1, "is required").max(100),
  scopes: z
    .array(z.enum(SCOPES, { message: `must be one of ${SCOPES.join(", ")}` }))
    .min(1, "must name at least one scope")
    .default([...SCOPES]),
});

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

function toView(row: {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes.filter((scope): scope is Scope => (SCOPES as readonly string[]).includes(scope)),
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at ? row.last_used_at.toISOString() : null,
    revokedAt: row.revoked_at ? row.revoked_at.toISOString() : null,
  };
}

const COLUMNS = ["id", "name", "prefix", "scopes", "created_by", "created_at", "last_used_at", "revoked_at"] as const;

/** Per-tenant API keys (owners/admins): the secret is returned once at creation and stored only as a hash. */
export function apiKeyRoutes(deps: { db: Database; now: () => Date; authCache?: AuthCache }) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  route("keys.list", async (c, { tenantId }) => {
    const rows = await withTenant(deps.db, tenantId, (trx) => trx.selectFrom("api_keys").select(COLUMNS).orderBy("created_at", "desc").execute());
    return c.json({ keys: rows.map(toView) });
  });

  route("keys.create", async (c, { tenantId, actor }) => {
    const input = await readJson(c, KeyInput);
    const key = newApiKey();
    const row = await withTenant(deps.db, tenantId, async (trx) => {
      const created = await trx
        .insertInto("api_keys")
        .values({
          tenant_id: tenantId,
          name: input.name,
          prefix: key.prefix,
          key_hash: key.hash,
          scopes: [...new Set(input.scopes)],
          created_by: actor.userId,
          created_at: deps.now(),
        })
        .returning(COLUMNS)
        .executeTakeFirstOrThrow();
      await audit(trx, { tenantId, actor, action: "api_key.create", target: created.id, details: { name: input.name, scopes: created.scopes } });
      return created;
    });
    return c.json({ key: toView(row), secret: key.secret }, 201);
  });

  route("keys.revoke", async (c, { tenantId, actor }) => {
    const id = c.req.param("id");
    if (!UUID_PATTERN.test(id)) throw new AppError("not_found", "No such API key");
    await withTenant(deps.db, tenantId, async (trx) => {
      const revoked = await trx
        .updateTable("api_keys")
        .set({ revoked_at: deps.now() })
        .where("id", "=", id)
        .where("tenant_id", "=", tenantId)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      if (revoked.numUpdatedRows === 0n) throw new AppError("not_found", "No such API key");
      await audit(trx, { tenantId, actor, action: "api_key.revoke", target: id });
    });
    deps.authCache?.invalidateApiKey(id);
    return c.body(null, 204);
  });

  return app;
}
