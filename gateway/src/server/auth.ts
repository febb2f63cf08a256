import { createHash, timingSafeEqual } from "node:crypto";
import { AppError, HOOK_TOKEN_HEADER, TENANT_HEADER } from "@workforce/protocol";
import { assertTenantId } from "@workforce/protocol/tenant-path";
import type { MiddlewareHandler } from "hono";
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
  /** Repeated failures from one address within `windowMs` beyond `maxFailures` get rate_limited. */
  maxFailures: number;
  windowMs: number;
  now: () => number;
  clientAddress: (c: Parameters<MiddlewareHandler>[0]) => string;
}

/** Requires the hook token (Bearer or x-clawdbot-token), compared in constant time, with failure rate limiting. */
export function requireToken(options: AuthOptions): MiddlewareHandler<GatewayEnv> {
  const failures = new Map<string, { count: number; since: number }>();
  return async (c, next) => {
    if (options.token === undefined) return next();
    const address = options.clientAddress(c);
    const now = options.now();
    const record = failures.get(address);
    if (record && now - record.since > options.windowMs) failures.delete(address);
    const current = failures.get(address);
    if (current && current.count >= options.maxFailures) {
      const retryAfter = Math.max(1, Math.ceil((current.since + options.windowMs - now) / 1000));
      throw new AppError("rate_limited", "too many failed authentication attempts; try again later", { headers: { "retry-after": String(retryAfter) } });
    }
    const token = presentedToken(c.req.header("authorization"), c.req.header(HOOK_TOKEN_HEADER));
    if (token !== undefined && tokenMatches(token, options.token)) return next();
    if (failures.size > 10_000) failures.clear();
    failures.set(address, { count: (current?.count ?? 0) + 1, since: current?.since ?? now });
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
