import type { AuthenticatedUser } from "./auth/access-token";
import type { Role } from "./db/schema";

/** The caller's organisation for this request, after the membership check. */
export interface TenantContext {
  id: string;
  role: Role;
}

/** Hono environment: what middleware puts on the context for handlers. */
export interface AppEnv {
  Variables: {
    user: AuthenticatedUser;
    tenant: TenantContext;
  };
}
