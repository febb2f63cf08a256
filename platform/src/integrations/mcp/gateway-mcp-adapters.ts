import { AppError } from "@workforce/protocol";
import { TtlCache } from "../../ttl-cache";
import type { McpToolLister, WebCapabilities } from "./mcp-ports";

/*
 * The gateway's side of MCP and the web tools, as the platform's gateway client offers them
 * (`listMcpTools`, `capabilities`). A gateway client without them (an older gateway) offers no
 * MCP listing and no web tools, rather than failing.
 */

interface McpToolsGateway {
  listMcpTools(
    tenantId: string,
    server: { serverId: string; namespace: string; transport: "streamable-http" | "sse"; url: string; headers: Record<string, string>; revision: string },
  ): Promise<{ tools: { name: string; description?: string }[] }>;
}
interface CapabilitiesGateway {
  capabilities(): Promise<{ webFetch: boolean; webSearch: unknown }>;
}

const has = <T>(gateway: object, method: string): gateway is T & object => typeof (gateway as Record<string, unknown>)[method] === "function";

/** The server's own failures (refused credentials, unreachable, not MCP, the SSRF guard) are its status; the gateway's are errors. */
const SERVER_CODES = new Set(["mcp_auth_required", "mcp_unavailable", "mcp_protocol_error", "outbound_blocked"]);

export function gatewayMcpToolLister(gateway: object): McpToolLister {
  return {
    async listTools(tenantId, server) {
      if (!has<McpToolsGateway>(gateway, "listMcpTools")) return { ok: false, needsAuth: false, message: "This gateway cannot list MCP tools" };
      try {
        const { serverId, namespace, transport, url, headers, revision } = server;
        const answer = await gateway.listMcpTools(tenantId, { serverId, namespace, transport, url, headers, revision });
        return { ok: true, tools: answer.tools.map((tool) => ({ name: tool.name, ...(tool.description ? { description: tool.description.slice(0, 4000) } : {}) })) };
      } catch (error) {
        const code = error instanceof AppError ? (error.code as string) : undefined;
        if (!code || !SERVER_CODES.has(code)) throw error;
        return { ok: false, needsAuth: code === "mcp_auth_required", message: (error as AppError).message };
      }
    },
  };
}

/** How long the gateway's answer is trusted: its web tools change only with its configuration. */
const CAPABILITIES_TTL_MS = 60_000;

export function gatewayWebCapabilities(gateway: object, now: () => number): WebCapabilities {
  const cache = new TtlCache<"web", { fetch: boolean; search: boolean }>(1);
  return {
    async web() {
      const cached = cache.get("web", now());
      if (cached) return cached;
      if (!has<CapabilitiesGateway>(gateway, "capabilities")) return { fetch: false, search: false };
      // A gateway that cannot say (down, or without the route) offers no web tools for now.
      const answer = await gateway.capabilities().catch(() => undefined);
      if (!answer) return { fetch: false, search: false };
      const offered = { fetch: answer.webFetch, search: answer.webSearch !== null && answer.webSearch !== undefined };
      cache.set("web", offered, now() + CAPABILITIES_TTL_MS);
      return offered;
    },
  };
}
