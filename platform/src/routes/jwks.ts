import { Hono } from "hono";
import type { JsonWebKeySet } from "../auth/signing-keys";

/**
 * Long enough to spare the platform a request per verification, short enough that a verifier
 * elsewhere sees a new standby key well before the next rotation makes it sign (decision 011).
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/**
 * `GET /.well-known/jwks.json` (mounted under /auth/v1, where GoTrue serves it): the public keys
 * of the current, standby and previous signing keys, for anyone verifying the platform's tokens.
 */
export function jwksRoutes(deps: { jwks: () => JsonWebKeySet }) {
  const app = new Hono();
  app.get("/.well-known/jwks.json", (c) => {
    c.header("cache-control", `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    return c.json(deps.jwks());
  });
  return app;
}
