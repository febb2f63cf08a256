import { decodeJwt } from "jose";
import type { Role } from "../db/schema";
import { SingleFlight, TtlCache } from "../ttl-cache";
import type { AccessTokenVerifier, AuthenticatedUser } from "./access-token";

/**
 * How long a verified token, a membership, an API key or a provisioned user is trusted without
 * asking the database again. A member removed (or whose role changed) through another platform
 * process, or directly in the database, keeps their old access for at most this long; changes
 * made through this process's own routes take effect at once (they invalidate the cache).
 */
export const AUTH_CACHE_TTL_MS = 5_000;
/** Entries per kind; the least recently used go first. */
export const AUTH_CACHE_MAX_ENTRIES = 10_000;

/** Why an organisation's requests are refused, when the operator suspended it. */
export type Suspension = { reason: string | null } | null;

export interface CachedMembership {
  userId: string;
  tenantId: string;
  role: Role;
  suspended: Suspension;
}

export interface CachedApiKey {
  id: string;
  tenantId: string;
  scopes: string[];
  suspended: Suspension;
}

export interface AuthCacheOptions {
  /** Milliseconds since the epoch. */
  now: () => number;
  ttlMs?: number;
  maxEntries?: number;
}

/**
 * What authentication looks up on every request, remembered for a few seconds per user and
 * tenant: a chat message then costs no database round trip before it reaches the gateway.
 * Only positive answers are kept (a refused request is always re-checked).
 */
export function createAuthCache(options: AuthCacheOptions) {
  const ttlMs = options.ttlMs ?? AUTH_CACHE_TTL_MS;
  const max = options.maxEntries ?? AUTH_CACHE_MAX_ENTRIES;
  const tokens = new TtlCache<string, AuthenticatedUser>(max);
  const memberships = new TtlCache<string, CachedMembership>(max);
  const apiKeys = new TtlCache<string, CachedApiKey>(max);
  const provisioned = new TtlCache<string, true>(max);
  const membershipKey = (userId: string, requestedTenant: string | undefined) => `${userId}/${requestedTenant ?? ""}`;
  // A burst of requests that find an entry expired wait for one lookup (see SingleFlight).
  const verifying = new SingleFlight<string, AuthenticatedUser>();
  const lookingUp = new SingleFlight<string, CachedMembership | undefined>();
  /** Moves on with every invalidation of memberships: a lookup begun before one is not remembered. */
  let membershipGeneration = 0;
  /** The same for sign-outs: a token verified before one is not remembered (its session may be the one that ended). */
  let sessionGeneration = 0;

  return {
    ttlMs,

    /** Wraps a verifier: a token verified once is trusted until its expiry, at most `ttlMs`. */
    verifier(verify: AccessTokenVerifier): AccessTokenVerifier {
      return async (token) => {
        const now = options.now();
        const known = tokens.get(token, now);
        if (known) return known;
        const generation = sessionGeneration;
        return verifying.run(token, async () => {
          const user = await verify(token);
          const exp = decodeJwt(token).exp;
          const expiresAt = Math.min(now + ttlMs, typeof exp === "number" ? exp * 1000 : now);
          if (expiresAt > now && generation === sessionGeneration) tokens.set(token, user, expiresAt);
          return user;
        });
      };
    },

    /**
     * The remembered membership, or `lookUp`'s answer (remembered when found), shared by every
     * request asking for the same one meanwhile. An answer looked up before an invalidation
     * answers the requests that were waiting for it, and is not remembered.
     */
    async loadMembership(userId: string, requestedTenant: string | undefined, lookUp: () => Promise<CachedMembership | undefined>): Promise<CachedMembership | undefined> {
      const key = membershipKey(userId, requestedTenant);
      const known = memberships.get(key, options.now());
      if (known) return known;
      const generation = membershipGeneration;
      return lookingUp.run(key, async () => {
        const found = await lookUp();
        if (found && generation === membershipGeneration) memberships.set(key, found, options.now() + ttlMs);
        return found;
      });
    },

    /** An unrevoked API key by the hash of its secret. */
    apiKey(keyHash: string): CachedApiKey | undefined {
      return apiKeys.get(keyHash, options.now());
    },
    rememberApiKey(keyHash: string, key: CachedApiKey): void {
      apiKeys.set(keyHash, key, options.now() + ttlMs);
    },

    /** Supabase mode: users whose local records are known to exist. */
    isProvisioned(userId: string): boolean {
      return provisioned.get(userId, options.now()) === true;
    },
    rememberProvisioned(userId: string): void {
      provisioned.set(userId, true, options.now() + ttlMs);
    },

    /** After a user's memberships or roles change (joined, left, removed, role changed). */
    invalidateUser(userId: string): void {
      memberships.deleteWhere((membership) => membership.userId === userId);
      lookingUp.clear();
      membershipGeneration += 1;
    },

    /** After sessions were signed out (here): their access tokens stop working at once. */
    invalidateSessions(sessionIds: readonly string[]): void {
      const ended = new Set(sessionIds);
      verifying.clear();
      sessionGeneration += 1;
      tokens.deleteWhere((user) => user.sessionId !== undefined && ended.has(user.sessionId));
    },

    /** After an API key is revoked. */
    invalidateApiKey(keyId: string): void {
      apiKeys.deleteWhere((key) => key.id === keyId);
    },

    /** After a tenant's memberships, keys or existence change in bulk (tenant deleted, key revoked). */
    invalidateTenant(tenantId: string): void {
      memberships.deleteWhere((membership) => membership.tenantId === tenantId);
      lookingUp.clear();
      membershipGeneration += 1;
      apiKeys.deleteWhere((key) => key.tenantId === tenantId);
    },
  };
}

export type AuthCache = ReturnType<typeof createAuthCache>;
