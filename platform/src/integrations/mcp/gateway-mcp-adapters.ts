import { AppError } from "@workforce/protocol";
import type { GatewayClient } from "../../gateway-client";
import { TtlCache } from "../../ttl-cache";
import type { McpToolLister, WebCapabilities } from "./mcp-ports";

/** The server's own failures (refused credentials, unreachable, not MCP, the SSRF guard) are its status; the gateway's are errors. */
const SERVER_CODES = new Set<string>(["mcp_auth_required", "mcp_unavailable", "mcp_protocol_error", "outbound_blocked"]);

/** Lists a server's tools with the gateway's MCP client (`POST /v1/integrations/mcp/tools`). */
export function gatewayMcpToolLister(gateway: Pick<GatewayClient, "listMcpTools">): McpToolLister {
  return {
    async listTools(tenantId, server) {
      try {
        const { serverId, namespace, transport, url, headers, revision } = server;
        const answer = await gateway.listMcpTools(tenantId, { serverId, namespace, transport, url, headers, revision });
        const skipped = answer.omitted.map((tool) => `${tool.name} (${tool.reason})`);
        return {
          ok: true,
          tools: answer.tools.map((tool) => ({ name: tool.name, ...(tool.description ? { description: tool.description.slice(0, 4000) } : {}) })),
          ...(skipped.length ? { note: `Not offered: ${skipped.join(", ")}` } : {}),
        };
      } catch (error) {
        if (!(error instanceof AppError) || !SERVER_CODES.has(error.code)) throw error;
        return { ok: false, needsAuth: error.code === "mcp_auth_required", message: error.message };
      }
    },
  };
}

/** How long the gateway's answer is trusted: its web tools change only with its configuration. */
const CAPABILITIES_TTL_MS = 60_000;

/** Which web tools the gateway offers (`GET /v1/capabilities`), remembered for a minute. */
export function gatewayWebCapabilities(gateway: Pick<GatewayClient, "capabilities">, now: () => number): WebCapabilities {
  const cache = new TtlCache<"web", { fetch: boolean; search: boolean }>(1);
  return {
    async web() {
      const cached = cache.get("web", now());
      if (cached) return cached;
      // A gateway that cannot say right now offers no web tools for now.
      const answer = await gateway.capabilities().catch(() => undefined);
      if (!answer) return { fetch: false, search: false };
      const offered = { fetch: answer.webFetch, search: answer.webSearch !== null };
      cache.set("web", offered, now() + CAPABILITIES_TTL_MS);
      return offered;
    },
  };
}
