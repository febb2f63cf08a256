import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { McpToolLister } from "../integrations/mcp/mcp-ports";

/**
 * Lists a server's tools with the SDK's own client, as the gateway's MCP client does behind
 * `POST /v1/integrations/mcp/tools`: the platform's tests use it where no gateway with MCP runs.
 */
export function sdkMcpToolLister(): McpToolLister & { calls: { tenantId: string; serverId: string }[] } {
  const calls: { tenantId: string; serverId: string }[] = [];
  return {
    calls,
    async listTools(tenantId, server) {
      calls.push({ tenantId, serverId: server.serverId });
      const requestInit = { headers: server.headers };
      const transport = server.transport === "sse" ? new SSEClientTransport(new URL(server.url), { requestInit }) : new StreamableHTTPClientTransport(new URL(server.url), { requestInit });
      const client = new Client({ name: "workforce-test", version: "0.1.0" });
      try {
        await client.connect(transport);
        const { tools } = await client.listTools();
        return { ok: true, tools: tools.map((tool) => ({ name: tool.name, ...(tool.title ? { title: tool.title } : {}), ...(tool.description ? { description: tool.description } : {}) })) };
      } catch (error) {
        const needsAuth = (error instanceof StreamableHTTPError && error.code === 401) || /\b401\b/.test(String(error));
        return { ok: false, needsAuth, message: needsAuth ? "The server refused our credentials (401)" : `The server could not be reached: ${error instanceof Error ? error.message : String(error)}` };
      } finally {
        await client.close().catch(() => undefined);
      }
    },
  };
}
