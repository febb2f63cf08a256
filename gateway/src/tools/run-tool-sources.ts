import { createGuardedFetch, type GuardedFetch } from "@workforce/net-guard";
import type { GatewayCapabilities } from "@workforce/protocol";
import type { GatewayConfig } from "../config";
import type { Logger } from "../logger";
import { createMcpIntegration, type McpIntegrationDeps, type McpSettings, type ProbeMcpServer } from "./mcp/mcp-integration";
import type { RunToolSource } from "./run-tools";
import { createWebToolSource, webCapabilities, webUserAgent } from "./web/web-tool-source";

export interface RunToolSourceDeps {
  /** The gateway's config or, in tests, just the parts the sources read (web tools: off unless configured). */
  config: { mcp: McpSettings } & Partial<Pick<GatewayConfig, "outbound" | "webSearch" | "webFetchInfoUrl">>;
  logger: Logger;
  /** The gateway's version, named in the web tools' User-Agent. */
  version?: string;
  /** How tool sources reach tenants' servers: the SSRF guard; built from `config.outbound` (and closed with the sources) when absent. */
  fetch?: typeof fetch;
  /** Told when a tenant's MCP server says its tools changed (tests wait for it). */
  onMcpToolsChanged?: McpIntegrationDeps["onToolsChanged"];
}

export interface RunToolSources {
  sources: RunToolSource[];
  /** What the sources can offer (`GET /v1/capabilities`). */
  capabilities: GatewayCapabilities;
  /** `POST /v1/integrations/mcp/tools`: what an MCP server offers, for the platform. */
  mcpProbe: ProbeMcpServer;
  /** MCP sessions open, per tenant or in all. */
  mcpSessions(tenantId?: string): number;
  close(): Promise<void>;
}

/**
 * The integration tool sources this gateway offers runs, one per kind (MCP, Composio, web). Each
 * reads only its part of a run's integrations, so a run without integrations opens nothing.
 * Every outgoing connection they make goes through the one SSRF guard (packages/net-guard).
 */
export function createRunToolSources(deps: RunToolSourceDeps): RunToolSources {
  const closers: (() => Promise<void>)[] = [];
  let outbound: typeof fetch | undefined = deps.fetch;
  if (!outbound) {
    const guarded: GuardedFetch = createGuardedFetch(deps.config.outbound ?? { allowPrivateNetwork: false, allowHosts: [] });
    closers.push(() => guarded.close());
    outbound = guarded;
  }
  const mcp = createMcpIntegration({ settings: deps.config.mcp, logger: deps.logger, fetch: outbound, onToolsChanged: deps.onMcpToolsChanged });
  closers.unshift(() => mcp.close());
  const web = createWebToolSource({ fetch: outbound, userAgent: webUserAgent(deps.version ?? "0.0.0", deps.config.webFetchInfoUrl), search: deps.config.webSearch });
  return {
    sources: [mcp.source, web],
    capabilities: { ...webCapabilities(deps.config.webSearch) },
    mcpProbe: mcp.probe,
    mcpSessions: (tenantId) => mcp.sessions(tenantId),
    async close() {
      for (const close of closers) await close().catch(() => undefined);
    },
  };
}
