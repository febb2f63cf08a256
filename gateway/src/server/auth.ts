import { createHash, timingSafeEqual } from "node:crypto";
import { AppError, HOOK_TOKEN_HEADER, TENANT_HEADER } from "@workforce/protocol";
import { assertTenantId } from "@workforce/protocol/tenant-path";
import type { MiddlewareHandler } from "hono";
import { normalizeAddress, type AuthFailureLimiter } from "./auth-failures";
import type { GatewayEnv } from "./gateway-env";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Equal-length digests make the comparison constant-time whatever the candidate's length. */
export function tokenMatches(candidate: string, expected: string): boolean {
  return timingSafeEqual(digest(candidate), digest(expected));
}

function presentedToken(authorization: string | undefined, headerToken: string | undefined): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization ?? "")?.[1]?.trim();
  return bearer || headerToken?.trim() || undefined;
}

export interface AuthOptions {
  /** CLAWDBOT_HOOK_TOKEN; undefined switches auth off (only allowed on loopback). */
  token: string | undefined;
  /** Failure counting shared with the WebSocket upgrade. */
  failures: AuthFailureLimiter;
  clientAddress: (c: Parameters<MiddlewareHandler>[0]) => string;
}

/** Requires the hook token (Bearer or x-clawdbot-token), compared in constant time, with failure rate limiting. */
export function requireToken(options: AuthOptions): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    if (options.token === undefined) return next();
    const address = normalizeAddress(options.clientAddress(c));
    options.failures.check(address);
    const token = presentedToken(c.req.header("authorization"), c.req.header(HOOK_TOKEN_HEADER));
    if (token !== undefined && tokenMatches(token, options.token)) return next();
    options.failures.fail(address);
    if (token === undefined) throw new AppError("unauthorized", "missing gateway token: send Authorization: Bearer <CLAWDBOT_HOOK_TOKEN>");
    throw new AppError("invalid_token", "the gateway token is wrong");
  };
}

/** Reads and validates X-Tenant-ID and stores it for the handlers. */
export const requireTenant: MiddlewareHandler<GatewayEnv> = async (c, next) => {
  const tenantId = c.req.header(TENANT_HEADER);
  if (!tenantId) throw new AppError("tenant_required", "the X-Tenant-ID header is required");
  c.set("tenantId", assertTenantId(tenantId.trim()));
  await next();
};
