import type { AppError } from "@workforce/protocol";
import type { AuthenticatedUser } from "./auth/access-token";
import type { Role } from "./db/schema";

/** API key scopes: what a key may do. Users are limited by their role instead. */
export const SCOPES = ["agents:read", "agents:write", "sessions:read", "sessions:write", "chat", "usage:read"] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling: a signed-in user, or an API key of one tenant. */
export type Principal = { type: "user"; user: AuthenticatedUser } | { type: "api-key"; keyId: string; scopes: Scope[] };

/** The organisation a caller would act in: the user's membership (or the key's tenant), found by `authenticate`. */
export interface TenantContext {
  id: string;
  /** The user's role; null for API keys, which have scopes instead. */
  role: Role | null;
  /** Set while the installation's operator has suspended the organisation. */
  suspended?: { reason: string | null } | null;
}

/** Hono environment: what middleware puts on the context for handlers. */
export interface AppEnv {
  Variables: {
    principal: Principal;
    /**
     * Where the caller would act; unset for a user in no organisation. Read only through the
     * operation's access check (`operationRoutes`), which decides whether the operation needs it.
     */
    membership?: TenantContext;
    /** Why `X-Tenant-ID` cannot be used (malformed, or not one of the user's organisations); reported by operations that need an organisation. */
    tenantProblem?: AppError;
  };
}
