import { AppError, HOOK_TOKEN_HEADER, type GatewayHealth, type GatewayHealthSummary } from "@workforce/protocol";
import type { Context, Handler } from "hono";
import { presentedToken, tokenMatches } from "../auth";
import { normalizeAddress, type AuthFailureLimiter } from "../auth-failures";
import { isLocalRequest } from "../client-address";
import type { GatewayEnv } from "../gateway-env";

export interface HealthRouteDeps {
  health: () => GatewayHealth;
  /** CLAWDBOT_HOOK_TOKEN; undefined when auth is off (loopback only). */
  hookToken: string | undefined;
  authFailures: AuthFailureLimiter;
  clientAddress: (c: Context) => string;
}

/**
 * `GET /`: open to everyone, but the details (data dir path, instance id, version, model, uptime)
 * only for the holder of the hook token or for a request from this host that no proxy relays.
 * Everyone else learns whether the gateway is up and nothing more. A wrong token counts as a
 * failed authentication, so this route is no cheaper a way to guess the token than the others,
 * and is refused (401), even from this host: a platform configured with the wrong
 * CLAWDBOT_HOOK_TOKEN must hear it at start-up and in its health, not after its first chat fails.
 */
export function healthRoute(deps: HealthRouteDeps): Handler<GatewayEnv> {
  return (c) => {
    const health = deps.health();
    const address = deps.clientAddress(c);
    const token = presentedToken(c.req.header("authorization"), c.req.header(HOOK_TOKEN_HEADER));
    let trusted = false;
    if (deps.hookToken !== undefined && token !== undefined) {
      trusted = tokenMatches(token, deps.hookToken);
      if (!trusted) {
        deps.authFailures.fail(normalizeAddress(address));
        throw new AppError("invalid_token", "the gateway token is wrong");
      }
    }
    if (trusted || isLocalRequest(address, (name) => c.req.header(name))) return c.json(health);
    const summary: GatewayHealthSummary = { status: health.status };
    return c.json(summary, health.status === "ok" ? 200 : 503);
  };
}
