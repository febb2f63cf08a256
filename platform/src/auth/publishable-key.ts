import { createHash } from "node:crypto";

/**
 * The embedded auth's publishable key, shaped like Supabase's (`sb_publishable_…`): what
 * `/api/config` hands to supabase-js as its `supabaseKey`, which it sends as `apikey`. Like
 * Supabase's it is public and grants nothing (access tokens do); it names the installation, so
 * it is derived from PUBLIC_URL (the token issuer) and every platform process gives the same one
 * without sharing a secret. See docs/decisions/023-guide-commands-and-cross-origin-web.md.
 */
export function embeddedPublishableKey(publicUrl: string): string {
  const digest = createHash("sha256").update(`workforce embedded auth\n${publicUrl}/auth/v1`).digest("base64url");
  return `sb_publishable_${digest.slice(0, 32)}`;
}
