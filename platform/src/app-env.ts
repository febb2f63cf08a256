import type { AuthenticatedUser } from "./auth/access-token";
import type { Role } from "./db/schema";

/** API key scopes: what a key may do. Users are limited by their role instead. */
export const SCOPES = ["agents:read", "agents:write", "sessions:read", "sessions:write", "chat", "usage:read"] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling: a signed-in user, or an API key of one tenant. */
export type Principal = { type: "user"; user: AuthenticatedUser } | { type: "api-key"; keyId: string; scopes: Scope[] };

/** The caller's organisation for this request, after the membership (or key) check. */
export interface TenantContext {
  id: string;
  /** The user's role; null for API keys, which have scopes instead. */
  role: Role | null;
  /** Set while the operator has suspended the organisation. */
  suspended?: { reason: string | null } | null;
}

/** Hono environment: what middleware puts on the context for handlers. */
export interface AppEnv {
  Variables: {
    principal: Principal;
    tenant: TenantContext;
  };
}
