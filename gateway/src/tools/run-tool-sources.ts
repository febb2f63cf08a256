import type { Logger } from "../logger";
import { createMcpIntegration, type McpIntegrationDeps, type McpSettings, type ProbeMcpServer } from "./mcp/mcp-integration";
import type { RunToolSource } from "./run-tools";

export interface RunToolSourceDeps {
  /** The gateway's config (GatewayConfig) or, in tests, just the parts the sources read. */
  config: { mcp: McpSettings };
  logger: Logger;
  /** How tool sources reach tenants' servers; the SSRF guard. */
  fetch: McpIntegrationDeps["fetch"];
  /** Told when a tenant's MCP server says its tools changed (tests wait for it). */
  onMcpToolsChanged?: McpIntegrationDeps["onToolsChanged"];
}

export interface RunToolSources {
  sources: RunToolSource[];
  /** `POST /v1/integrations/mcp/tools`: what an MCP server offers, for the platform. */
  mcpProbe: ProbeMcpServer;
  /** MCP sessions open, per tenant or in all. */
  mcpSessions(tenantId?: string): number;
  close(): Promise<void>;
}

/**
 * The integration tool sources this gateway offers runs, one per kind (MCP, Composio, web). Each
 * reads only its part of a run's integrations, so a run without integrations opens nothing.
 */
export function createRunToolSources(deps: RunToolSourceDeps): RunToolSources {
  const mcp = createMcpIntegration({ settings: deps.config.mcp, logger: deps.logger, fetch: deps.fetch, onToolsChanged: deps.onMcpToolsChanged });
  const sources: RunToolSource[] = [mcp.source];
  const closers: (() => Promise<void>)[] = [() => mcp.close()];
  return {
    sources,
    mcpProbe: mcp.probe,
    mcpSessions: (tenantId) => mcp.sessions(tenantId),
    async close() {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}
