import type { McpCachedTool, RunMcpServer } from "@workforce/protocol";

/**
 * What the MCP part needs from outside the platform, behind small interfaces so the gateway's
 * MCP client (it owns every connection to an MCP server) and the SSRF guard plug in here.
 */

/** A server's answer to `tools/list`, as the gateway reports it. */
export type McpToolListing =
  /** `note`: tools the server lists but the gateway will not offer, and why. */
  | { ok: true; tools: McpCachedTool[]; note?: string }
  /** `needsAuth`: the server answered 401 (headers wrong or missing, OAuth token refused). */
  | { ok: false; needsAuth: boolean; message: string };

/** Lists a server's tools through the gateway (`POST /v1/integrations/mcp/tools`). */
export interface McpToolLister {
  listTools(tenantId: string, server: RunMcpServer): Promise<McpToolListing>;
}

/** The SSRF guard (`@workforce/net-guard`): outgoing requests to organisation-given URLs go through it. */
export interface UrlGuard {
  /** Throws an AppError (400, the guard's code) when the URL may not be reached. */
  assertPublicUrl(url: string): Promise<void>;
  /** fetch that refuses private addresses at connect time (after DNS), redirects included. */
  fetch: typeof fetch;
}

/** Which web tools the gateway can offer (`GET /v1/capabilities`): web search needs a configured provider. */
export interface WebCapabilities {
  web(): Promise<{ fetch: boolean; search: boolean }>;
}
