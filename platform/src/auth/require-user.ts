import { AppError, UUID_PATTERN } from "@workforce/protocol";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import type { Database, Role } from "../db/schema";
import type { AccessTokenVerifier } from "./access-token";

/** Reads `Authorization: Bearer …`; missing → 401 unauthorized, bad → 401 invalid_token / token_expired. */
export function bearerToken(header: string | undefined): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!match?.[1]) throw new AppError("unauthorized", "Sign in first: send Authorization: Bearer <access token>");
  return match[1];
}

export function requireUser(verify: AccessTokenVerifier): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("user", await verify(bearerToken(c.req.header("authorization"))));
    await next();
  };
}

/** The user's organisations, oldest membership first. */
export async function listMemberships(db: Database, userId: string): Promise<{ id: string; name: string; role: Role }[]> {
  return db
    .selectFrom("memberships")
    .innerJoin("tenants", "tenants.id", "memberships.tenant_id")
    .select(["tenants.id as id", "tenants.name as name", "memberships.role as role"])
    .where("memberships.user_id", "=", userId)
    .orderBy("memberships.created_at", "asc")
    .orderBy("tenants.id", "asc")
    .execute();
}

/**
 * Chooses the tenant: `X-Tenant-ID` when sent (checked against the user's memberships on every
 * request: a client-sent id is never trusted), else the user's first organisation.
 */
export function requireTenant(db: Database): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const user = c.get("user");
    const requested = c.req.header("x-tenant-id")?.trim();
    if (requested !== undefined && requested !== "" && !UUID_PATTERN.test(requested)) {
      throw new AppError("invalid_tenant_id", "X-Tenant-ID must be a lowercase UUID");
    }
    let query = db
      .selectFrom("memberships")
      .select(["tenant_id", "role"])
      .where("user_id", "=", user.id)
      .orderBy("created_at", "asc")
      .orderBy("tenant_id", "asc");
    if (requested) query = query.where("tenant_id", "=", requested);
    const membership = await query.executeTakeFirst();
    if (!membership) {
      throw new AppError(
        "forbidden",
        requested ? "You are not a member of the organisation in X-Tenant-ID" : "You are not a member of any organisation",
      );
    }
    c.set("tenant", { id: membership.tenant_id, role: membership.role });
    await next();
  };
}
