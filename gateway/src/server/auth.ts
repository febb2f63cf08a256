import { createHash, timingSafeEqual } from "node:crypto";
import { AppError, HOOK_TOKEN_HEADER, TENANT_HEADER } from "@workforce/protocol";
import { assertTenantId } from "@workforce/protocol/tenant-path";
import type { Context, MiddlewareHandler } from "hono";
import { normalizeAddress, type AuthFailureLimiter } from "./auth-failures";
import type { GatewayEnv } from "./gateway-env";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Equal-length digests make the comparison constant-time whatever the candidate's length. */
export function tokenMatches(candidate: string, expected: string): boolean {
  return timingSafeEqual(digest(candidate), digest(expected));
}

/** The token a request presents: `Authorization: Bearer <token>`, else `x-clawdbot-token`. */
export function presentedToken(authorization: string | undefined, headerToken: string | undefined): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization ?? "")?.[1]?.trim();
  return bearer || headerToken?.trim() || undefined;
}

export interface TokenCheck {
  /** CLAWDBOT_HOOK_TOKEN; undefined means auth is off (loopback only). */
  expected: string | undefined;
  presented: string | undefined;
  /** The client's address, for failure counting. */
  address: string | undefined;
  failures: AuthFailureLimiter;
}

/**
 * Throws unless the request may pass. The valid token always passes and is never counted or
 * limited: the platform shares its address with everyone behind the same proxy, and strangers'
 * failures must not lock it out. Only a missing or wrong token meets the limiter (429 while the
 * address is over it) and counts as a failure.
 */
export function authenticate(check: TokenCheck): void {
  if (check.expected === undefined) return;
  if (check.presented !== undefined && tokenMatches(check.presented, check.expected)) return;
  const address = normalizeAddress(check.address);
  check.failures.check(address);
  check.failures.fail(address);
  if (check.presented === undefined) throw new AppError("unauthorized", "missing gateway token: send Authorization: Bearer <CLAWDBOT_HOOK_TOKEN>");
  throw new AppError("invalid_token", "the gateway token is wrong");
}

export interface AuthOptions {
  /** CLAWDBOT_HOOK_TOKEN; undefined switches auth off (only allowed on loopback). */
  token: string | undefined;
  /** Failure counting shared with the WebSocket upgrade. */
  failures: AuthFailureLimiter;
  clientAddress: (c: Context) => string;
}

/** Requires the hook token (Bearer or x-clawdbot-token), compared in constant time, with failure rate limiting. */
export function requireToken(options: AuthOptions): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    authenticate({
      expected: options.token,
      presented: presentedToken(c.req.header("authorization"), c.req.header(HOOK_TOKEN_HEADER)),
      address: options.token === undefined ? undefined : options.clientAddress(c),
      failures: options.failures,
    });
    await next();
  };
}

/** Reads and validates X-Tenant-ID and stores it for the handlers. */
export const requireTenant: MiddlewareHandler<GatewayEnv> = async (c, next) => {
  const tenantId = c.req.header(TENANT_HEADER);
  if (!tenantId) throw new AppError("tenant_required", "the X-Tenant-ID header is required");
  c.set("tenantId", assertTenantId(tenantId.trim()));
  await next();
};
