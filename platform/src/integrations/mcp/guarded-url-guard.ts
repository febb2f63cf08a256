import { assertPublicUrl, createGuardedFetch, type OutboundPolicy } from "@workforce/net-guard";
import type { UrlGuard } from "./mcp-ports";

/**
 * The SSRF guard under the operator's outbound policy (WORKFORCE_OUTBOUND_ALLOW_*): a registered
 * URL is checked at once, and every request to it (OAuth discovery, registration, tokens) is
 * checked again where its connection opens, redirects included.
 */
export function guardedUrlGuard(policy: OutboundPolicy): UrlGuard {
  const fetch = createGuardedFetch(policy);
  return {
    assertPublicUrl: (url) => assertPublicUrl(url, policy),
    fetch,
  };
}
