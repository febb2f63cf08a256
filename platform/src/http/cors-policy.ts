import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { RATE_LIMIT_HEADERS } from "../limits/api-limits";

/**
 * Which browser origins may call `/api` and `/auth/v1` (WORKFORCE_CORS_ORIGINS): the web app built
 * with VITE_API_URL and served from a CDN is one. `"*"` lets any page call (the API authenticates
 * with bearer tokens, never cookies, so no credentials are involved); an empty list allows none
 * beyond the platform's own origin, which needs no CORS.
 */
export type CorsOrigins = readonly string[] | "*";

/** Parses WORKFORCE_CORS_ORIGINS (comma-separated origins, or `*`) into origins, or a problem naming the bad entry. */
export function parseCorsOrigins(value: string | undefined): { ok: true; origins: CorsOrigins } | { ok: false; problem: string } {
  const entries = (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.includes("*")) return entries.length === 1 ? { ok: true, origins: "*" } : { ok: false, problem: "WORKFORCE_CORS_ORIGINS: `*` allows every origin and cannot be combined with others" };
  const origins: string[] = [];
  for (const entry of entries) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    // An origin is scheme://host[:port] and nothing more: a path or trailing slash never matches a browser's Origin header.
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.origin !== entry) {
      return { ok: false, problem: `WORKFORCE_CORS_ORIGINS: "${entry}" is not an origin; write scheme://host[:port] without a path, e.g. WORKFORCE_CORS_ORIGINS=https://app.example.com` };
    }
    origins.push(url.origin);
  }
  return { ok: true, origins };
}

/** The CORS answer of the API and the auth API: only listed origins get Access-Control-Allow-Origin. */
export function corsPolicy(origins: CorsOrigins): MiddlewareHandler {
  const allowed = origins === "*" ? "*" : (origin: string) => (origins.includes(origin) ? origin : null);
  const handler = cors({
    origin: allowed,
    // x-request-id: the structured logs' request id (issue 12), sent and read by clients.
    allowHeaders: ["authorization", "content-type", "apikey", "x-client-info", "x-tenant-id", "last-event-id", "x-supabase-api-version", "x-request-id"],
    exposeHeaders: ["x-run-id", "retry-after", "x-supabase-api-version", "x-request-id", ...RATE_LIMIT_HEADERS],
    maxAge: 600,
  });
  if (origins === "*") return handler;
  return async (c, next) => {
    // A preflight is answered here, with Vary already set; other requests go on to the routes.
    const preflight = await handler(c, next);
    if (preflight) return preflight;
    // The answer depends on the Origin header: a shared cache must not hand one origin's answer to another.
    c.res.headers.append("Vary", "Origin");
  };
}
