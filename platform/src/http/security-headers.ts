import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

export interface SecurityHeadersOptions {
  /** The platform's public origin (PUBLIC_URL); Strict-Transport-Security is sent only when it is https. */
  publicUrl: string | undefined;
  /** Hosted Supabase's URL, when it issues the tokens: the web app's supabase-js talks to it directly. */
  supabaseUrl: string | undefined;
}

/**
 * Browser hardening on every response (API, /auth/v1, the web app, 404s). The web app is a built
 * bundle with no inline script or style, so the policy allows only this origin (plus hosted
 * Supabase for connections) and nothing else: a slip that injects markup cannot run or exfiltrate.
 * Invitation tokens travel in URL paths (`/invite/{token}`), hence `no-referrer`.
 */
export function securityHeaders(options: SecurityHeadersOptions): MiddlewareHandler {
  const connectSrc = ["'self'"];
  if (options.supabaseUrl) connectSrc.push(new URL(options.supabaseUrl).origin);
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      // data: for the favicon, which index.html carries inline as an SVG data URL.
      imgSrc: ["'self'", "data:"],
      fontSrc: ["'self'"],
      connectSrc,
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    referrerPolicy: "no-referrer",
    xContentTypeOptions: "nosniff",
    xFrameOptions: "DENY",
    // Over plain http the header is ignored at best and, behind a TLS proxy without PUBLIC_URL, wrong.
    strictTransportSecurity: options.publicUrl?.startsWith("https://") ? "max-age=31536000; includeSubDomains" : false,
    // A route that sets a header itself (e.g. a stricter policy for a page of its own) keeps it.
    overwrite: false,
  });
}
