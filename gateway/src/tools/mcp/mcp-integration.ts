import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { McpServerConnection, McpToolsAnswer } from "@workforce/protocol";
import type { Logger } from "../../logger";
import type { RunToolSource } from "../run-tools";
import { createMcpSessionPool, type McpSessionPoolOptions } from "./mcp-session-pool";
import { createMcpToolSource } from "./mcp-tool-source";

/** The operator's MCP settings (config: WORKFORCE_MCP_*). */
export interface McpSettings {
  /** Longest wait for one request to a server, a tool call included (WORKFORCE_MCP_TOOL_TIMEOUT_MS). */
  toolTimeoutMs: number;
  maxSessionsPerTenant: number;
  maxSessions: number;
  /** Longest wait for a server to answer initialize or a tool list page (default 30 s, at most the tool timeout). */
  connectTimeoutMs?: number;
  /** Most bytes read of a server's answer to one request (default 8 MiB). */
  maxResponseBytes?: number;
  /** How long an unused session stays open (default 5 minutes). */
  idleMs?: number;
}

export interface McpIntegrationDeps {
  settings: McpSettings;
  logger: Logger;
  /** Every request to a tenant's server goes through it: the SSRF guard. */
  fetch: FetchLike;
  onToolsChanged?: McpSessionPoolOptions["onToolsChanged"];
}

/** Lists a server's tools for the platform (`POST /v1/integrations/mcp/tools`). */
export type ProbeMcpServer = (tenantId: string, server: McpServerConnection, signal: AbortSignal) => Promise<McpToolsAnswer>;

export interface McpIntegration {
  source: RunToolSource;
  probe: ProbeMcpServer;
  /** Sessions open, per tenant or in all (for tests and metrics). */
  sessions(tenantId?: string): number;
  close(): Promise<void>;
}

export const DEFAULT_MCP_IDLE_MS = 5 * 60_000;
export const DEFAULT_MCP_CONNECT_TIMEOUT_MS = 30_000;
/** Far above any useful tool result (the model sees at most MCP_MAX_RESULT_CHARS): this bounds memory, not the model's view. */
export const DEFAULT_MCP_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
/** A tool result's text given to the model; below the agent loop's own cap, so the cut is marked here, with its size. */
export const MCP_MAX_RESULT_CHARS = 30_000;

/** The gateway side of tenants' MCP servers: the run tool source with its session pool, and the probe. */
export function createMcpIntegration(deps: McpIntegrationDeps): McpIntegration {
  const { settings } = deps;
  // The MCP client (with its JSON-schema validator, ~0.5 MB of code) loads with the first session, not with the gateway.
  const connect = async (server: McpServerConnection, hooks: { onToolsChanged?: () => void; onClosed?: () => void }, signal: AbortSignal) =>
    (await import("./mcp-session")).connectMcpSession(
      {
        server,
        fetch: deps.fetch,
        timeoutMs: settings.toolTimeoutMs,
        connectTimeoutMs: settings.connectTimeoutMs ?? DEFAULT_MCP_CONNECT_TIMEOUT_MS,
        maxResponseBytes: settings.maxResponseBytes ?? DEFAULT_MCP_MAX_RESPONSE_BYTES,
        ...hooks,
      },
      signal,
    );
  const pool = createMcpSessionPool({
    open: connect,
    logger: deps.logger,
    maxPerTenant: settings.maxSessionsPerTenant,
    maxTotal: settings.maxSessions,
    idleMs: settings.idleMs ?? DEFAULT_MCP_IDLE_MS,
    onToolsChanged: deps.onToolsChanged,
  });
  return {
    source: createMcpToolSource({ pool, logger: deps.logger, maxResultChars: MCP_MAX_RESULT_CHARS }),
    // A session of its own, closed at once: the platform asks rarely (an admin looking at the
    // server), with settings that may not be saved yet, and it must not take a run's place.
    async probe(_tenantId, server, signal) {
      const session = await connect(server, {}, signal);
      try {
        const listed = await session.tools();
        return { server: session.server, tools: listed.tools, omitted: listed.omitted };
      } finally {
        await session.close();
      }
    },
    sessions: (tenantId) => pool.size(tenantId),
    close: () => pool.close(),
  };
}
