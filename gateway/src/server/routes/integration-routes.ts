import { McpServerConnection, type McpToolsErrorBody } from "@workforce/protocol";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { McpAuthRequiredError } from "../../tools/mcp/mcp-errors";
import type { ProbeMcpServer } from "../../tools/mcp/mcp-integration";
import type { GatewayEnv } from "../gateway-env";
import { readJsonBody } from "../request-input";

export interface IntegrationRouteDeps {
  mcpProbe: ProbeMcpServer;
}

/** `/v1/integrations`: what the platform asks about a tenant's integrations before granting them to agents. */
export function integrationRoutes(deps: IntegrationRouteDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();

  // Connects to the server with the settings in the body (headers included, never echoed), lists
  // its tools and hangs up. A 401 from the server answers mcp_auth_required with the
  // resource-metadata URL it named, where the platform starts OAuth.
  app.post("/mcp/tools", async (c) => {
    const server = await readJsonBody(c, McpServerConnection);
    try {
      return c.json(await deps.mcpProbe(c.get("tenantId"), server, c.req.raw.signal));
    } catch (error) {
      if (!(error instanceof McpAuthRequiredError)) throw error;
      const body: McpToolsErrorBody = {
        error: { code: error.code, message: error.message, ...(error.resourceMetadataUrl ? { resourceMetadataUrl: error.resourceMetadataUrl } : {}) },
      };
      return c.json(body, error.status as ContentfulStatusCode);
    }
  });

  return app;
}
