import { AppError, UUID_PATTERN } from "@workforce/protocol";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, Principal, Scope } from "../app-env";
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
export async function listMemberships(db: Database, userId: string): Promise<{ id: string; name: string; role: Role; suspended: boolean }[]> {
  const rows = await withUser(db, userId, (trx) =>
    trx
      .selectFrom("memberships")
      .innerJoin("tenants", "tenants.id", "memberships.tenant_id")
      .select(["tenants.id as id", "tenants.name as name", "memberships.role as role", "tenants.suspended_at"])
      .where("memberships.user_id", "=", userId)
      .orderBy("memberships.created_at", "asc")
      .orderBy("tenants.id", "asc")
      .execute(),
  );
  return rows.map(({ suspended_at: suspendedAt, ...tenant }) => ({ ...tenant, suspended: suspendedAt !== null }));
}

/**
 * What a member of a suspended organisation may still do: see their organisations, take the
 * data out, delete it, or leave. Everything else answers 403 `tenant_suspended`.
 */
function allowedWhileSuspended(method: string, path: string): boolean {
  if (/^\/api\/(me|tenants|invitations\/accept|operator(\/.*)?)$/.test(path)) return true;
  if (method === "GET" && path === "/api/tenant/export") return true;
  if (method === "DELETE" && (path === "/api/tenant" || path.startsWith("/api/members/"))) return true;
  return false;
}

function refuseIfSuspended(c: Context, suspended: { reason: string | null } | null | undefined): void {
  if (!suspended || allowedWhileSuspended(c.req.method, c.req.path)) return;
  const reason = suspended.reason ? `: ${suspended.reason}` : "";
  throw new AppError("tenant_suspended", `This organisation is suspended by the installation's operator${reason}. Its members can still export its data or leave it.`);
}

/** The membership `authenticate` uses: the requested tenant's, else the oldest; remembered when found. */
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
  const membership = { userId, tenantId: row.tenant_id, role: row.role, suspended: row.suspended_at ? { reason: row.suspended_reason } : null };
  deps.cache?.rememberMembership(requested, membership);
  return membership;
}

function requestedTenant(c: Context): string | undefined {
  const requested = c.req.header("x-tenant-id")?.trim();
  if (!requested) return undefined;
  if (!UUID_PATTERN.test(requested)) throw new AppError("invalid_tenant_id", "X-Tenant-ID must be a lowercase UUID");
  return requested;
}

/**
 * Authenticates the caller (access token or API key), then chooses the tenant: `X-Tenant-ID`
 * when sent (checked against the user's memberships on every request: a client-sent id is
 * never trusted), else the user's first organisation; an API key is bound to its own tenant.
 */
export function authenticate(deps: AuthenticateDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    const requested = requestedTenant(c);
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
      c.set("tenant", { id: key.tenantId, role: null, suspended: key.suspended });
      refuseIfSuspended(c, key.suspended);
      return next();
    }
    const user = await deps.verify(token);
    if (deps.provisionUser && !deps.cache?.isProvisioned(user.id)) {
      await deps.provisionUser(user, { path: c.req.path });
      deps.cache?.rememberProvisioned(user.id);
    }
    const membership = deps.cache?.membership(user.id, requested) ?? (await lookUpMembership(deps, user.id, requested));
    c.set("principal", { type: "user", user });
    if (membership) {
      c.set("tenant", { id: membership.tenantId, role: membership.role, suspended: membership.suspended });
      refuseIfSuspended(c, membership.suspended);
    } else if (requested) throw new AppError("forbidden", "You are not a member of the organisation in X-Tenant-ID");
    await next();
  };
}

/** The tenant chosen by `authenticate`; 403 when the user belongs to none. */
export function tenantOf(c: Context<AppEnv>): { id: string; role: Role | null } {
  const tenant = c.get("tenant") as AppEnv["Variables"]["tenant"] | undefined;
  if (!tenant) throw new AppError("forbidden", "You are not a member of any organisation");
  return tenant;
}

/** The signed-in user; API keys get 403 (account and organisation management is for people). */
export function userOf(c: Context<AppEnv>): AuthenticatedUser {
  const principal = c.get("principal");
  if (principal.type !== "user") throw new AppError("forbidden", "API keys cannot use this route; sign in as a user");
  return principal.user;
}

/** Users pass (their role governs); API keys need the scope. */
export function requireScope(c: Context<AppEnv>, scope: Scope): void {
  const principal: Principal = c.get("principal");
  if (principal.type === "api-key" && !principal.scopes.includes(scope)) {
    throw new AppError("forbidden", `This API key lacks the "${scope}" scope`);
  }
}

/** Owner/admin routes. Keys never pass; members get 403. */
export function requireAdmin(c: Context<AppEnv>): { tenantId: string; role: Role; user: AuthenticatedUser } {
  const user = userOf(c);
  const tenant = tenantOf(c);
  if (tenant.role !== "owner" && tenant.role !== "admin") throw new AppError("forbidden", "Only owners and admins can do this");
  return { tenantId: tenant.id, role: tenant.role, user };
}

/** The actor columns of an audit entry or usage event. */
export function actorOf(c: Context<AppEnv>): { userId: string | null; apiKeyId: string | null } {
  const principal = c.get("principal");
  return principal.type === "user" ? { userId: principal.user.id, apiKeyId: null } : { userId: null, apiKeyId: principal.keyId };
}
