import { AppError, UUID_PATTERN } from "@workforce/protocol";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, Scope } from "../app-env";
import { SCOPES } from "../app-env";
import type { Database, Role, SystemDatabase } from "../db/schema";
import { withSystem, withUser } from "../db/scopes";
import type { AccessTokenVerifier, AuthenticatedUser } from "./access-token";
import type { AuthCache, CachedMembership } from "./auth-cache";
import { API_KEY_PREFIX } from "./api-key-secret";
import { hashToken } from "./refresh-token";

/** Reads `Authorization: Bearer …`; missing → 401 unauthorized. */
export function bearerToken(header: string | undefined): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!match?.[1]) throw new AppError("unauthorized", "Sign in first: send Authorization: Bearer <access token or API key>");
  return match[1];
}

export interface AuthenticateDeps {
  /** Memberships are read in the user's scope. */
  db: Database;
  /** The system scope: an API key is found by its hash before its tenant is known. */
  system: SystemDatabase;
  verify: AccessTokenVerifier;
  now: () => Date;
  /** Called for every verified user before tenant resolution (Supabase mode creates the local records here). */
  provisionUser?: (user: AuthenticatedUser, request: { path: string }) => Promise<void>;
  /** Remembers keys, provisioned users and memberships for a few seconds (see AUTH_CACHE_TTL_MS). */
  cache?: AuthCache;
}

/** The user's organisations, oldest membership first. */
export async function listMemberships(
  db: Database,
  userId: string,
): Promise<{ id: string; name: string; role: Role; suspended: boolean; suspendedReason: string | null }[]> {
  const rows = await withUser(db, userId, (trx) =>
    trx
      .selectFrom("memberships")
      .innerJoin("tenants", "tenants.id", "memberships.tenant_id")
      .select(["tenants.id as id", "tenants.name as name", "memberships.role as role", "tenants.suspended_at", "tenants.suspended_reason"])
      .where("memberships.user_id", "=", userId)
      .orderBy("memberships.created_at", "asc")
      .orderBy("tenants.id", "asc")
      .execute(),
  );
  return rows.map(({ suspended_at: suspendedAt, suspended_reason: reason, ...tenant }) => ({
    ...tenant,
    suspended: suspendedAt !== null,
    suspendedReason: suspendedAt !== null ? reason : null,
  }));
}

/** The membership `authenticate` uses: the requested tenant's, else the oldest (the cache remembers it). */
async function lookUpMembership(deps: AuthenticateDeps, userId: string, requested: string | undefined): Promise<CachedMembership | undefined> {
  const row = await withUser(deps.db, userId, (trx) => {
    let query = trx
      .selectFrom("memberships")
      .innerJoin("tenants", "tenants.id", "memberships.tenant_id")
      .select(["memberships.tenant_id", "memberships.role", "tenants.suspended_at", "tenants.suspended_reason"])
      .where("memberships.user_id", "=", userId)
      .orderBy("memberships.created_at", "asc")
      .orderBy("memberships.tenant_id", "asc");
    if (requested) query = query.where("memberships.tenant_id", "=", requested);
    return query.executeTakeFirst();
  });
  if (!row) return undefined;
  return { userId, tenantId: row.tenant_id, role: row.role, suspended: row.suspended_at ? { reason: row.suspended_reason } : null };
}

function requestedTenant(c: Context): string | undefined {
  const requested = c.req.header("x-tenant-id")?.trim();
  if (!requested) return undefined;
  if (!UUID_PATTERN.test(requested)) throw new AppError("invalid_tenant_id", "X-Tenant-ID must be a lowercase UUID");
  return requested;
}

/** `X-Tenant-ID`, or a problem with it that only operations needing an organisation report. */
function requestedTenantOrProblem(c: Context): { requested: string | undefined; problem: AppError | undefined } {
  try {
    return { requested: requestedTenant(c), problem: undefined };
  } catch (error) {
    if (error instanceof AppError) return { requested: undefined, problem: error };
    throw error;
  }
}

/**
 * Authenticates the caller (access token or API key), then finds the organisation it would act
 * in: `X-Tenant-ID` when sent (checked against the user's memberships on every request: a
 * client-sent id is never trusted), else the user's first organisation; an API key is bound to
 * its own tenant. Whether the operation may use it is decided per route (`operationRoutes`):
 * account-level operations ignore a stale, foreign or malformed `X-Tenant-ID`, so a user who left
 * their only organisation is not locked out by the id their browser still sends.
 */
export function authenticate(deps: AuthenticateDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    const { requested, problem } = requestedTenantOrProblem(c);
    if (problem) c.set("tenantProblem", problem);
    if (token.startsWith(API_KEY_PREFIX)) {
      const keyHash = hashToken(token);
      let key = deps.cache?.apiKey(keyHash);
      if (!key) {
        // Looked up in the system scope: the key is what tells us the tenant. last_used_at is
        // thus refreshed at most once per cache lifetime.
        const row = await withSystem(deps.system, (trx) =>
          trx
            .updateTable("api_keys")
            .set({ last_used_at: deps.now() })
            .from("tenants")
            .whereRef("tenants.id", "=", "api_keys.tenant_id")
            .where("api_keys.key_hash", "=", keyHash)
            .where("api_keys.revoked_at", "is", null)
            .returning(["api_keys.id", "api_keys.tenant_id", "api_keys.scopes", "tenants.suspended_at", "tenants.suspended_reason"])
            .executeTakeFirst(),
        );
        if (!row) throw new AppError("invalid_token", "API key is invalid or was revoked");
        key = { id: row.id, tenantId: row.tenant_id, scopes: row.scopes, suspended: row.suspended_at ? { reason: row.suspended_reason } : null };
        deps.cache?.rememberApiKey(keyHash, key);
      }
      if (requested && requested !== key.tenantId) throw new AppError("forbidden", "This API key belongs to another organisation than X-Tenant-ID");
      const scopes = key.scopes.filter((scope): scope is Scope => (SCOPES as readonly string[]).includes(scope));
      c.set("principal", { type: "api-key", keyId: key.id, scopes });
      c.set("membership", { id: key.tenantId, role: null, suspended: key.suspended });
      return next();
    }
    const user = await deps.verify(token);
    if (deps.provisionUser && !deps.cache?.isProvisioned(user.id)) {
      await deps.provisionUser(user, { path: c.req.path });
      deps.cache?.rememberProvisioned(user.id);
    }
    const membership = deps.cache ? await deps.cache.loadMembership(user.id, requested, () => lookUpMembership(deps, user.id, requested)) : await lookUpMembership(deps, user.id, requested);
    c.set("principal", { type: "user", user });
    if (membership) c.set("membership", { id: membership.tenantId, role: membership.role, suspended: membership.suspended });
    else if (requested && !problem) c.set("tenantProblem", new AppError("forbidden", "You are not a member of the organisation in X-Tenant-ID"));
    await next();
  };
}
