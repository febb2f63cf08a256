import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

export interface SecurityHeadersOptions {
  /** The platform's public origin (PUBLIC_URL); Strict-Transport-Security is sent only when it is https. */
  publicUrl: string | undefined;
  /** Hosted Supabase's URL, when it issues the tokens: the web app's supabase-js talks to it directly. */
  supabaseUrl: string | undefined;
}

/** The web app's content security policy: this origin only, plus the origins it must connect to (a hosted Supabase, an API elsewhere). */
export function webAppCspDirectives(connectOrigins: readonly string[]) {
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    // data: for the favicon, which index.html carries inline as an SVG data URL.
    imgSrc: ["'self'", "data:"],
    fontSrc: ["'self'"],
    connectSrc: ["'self'", ...new Set(connectOrigins.map((url) => new URL(url).origin))],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  };
}

/**
 * The same policy as a `<meta http-equiv>` value, for a build served by a CDN or nginx that sends
 * no header of its own. A meta policy cannot say frame-ancestors (browsers ignore it there), so
 * it is left out; X-Frame-Options is the static server's to send.
 */
export function webAppCspMeta(connectOrigins: readonly string[]): string {
  const { frameAncestors: _headerOnly, ...directives } = webAppCspDirectives(connectOrigins);
  return Object.entries(directives)
    .map(([name, values]) => `${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)} ${values.join(" ")}`)
    .join("; ");
}

/**
 * Browser hardening on every response (API, /auth/v1, the web app, 404s). The web app is a built
 * bundle with no inline script or style, so the policy allows only this origin (plus hosted
 * Supabase for connections) and nothing else: a slip that injects markup cannot run or exfiltrate.
 * Invitation tokens travel in URL paths (`/invite/{token}`), hence `no-referrer`.
 */
export function securityHeaders(options: SecurityHeadersOptions): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: webAppCspDirectives(options.supabaseUrl ? [options.supabaseUrl] : []),
    referrerPolicy: "no-referrer",
    xContentTypeOptions: "nosniff",
    xFrameOptions: "DENY",
    // Over plain http the header is ignored at best and, behind a TLS proxy without PUBLIC_URL, wrong.
    strictTransportSecurity: options.publicUrl?.startsWith("https://") ? "max-age=31536000; includeSubDomains" : false,
    // A route that sets a header itself (e.g. a stricter policy for a page of its own) keeps it.
    overwrite: false,
  });
}
