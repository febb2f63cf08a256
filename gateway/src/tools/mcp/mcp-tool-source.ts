import { AppError, type RunMcpServer } from "@workforce/protocol";
import type { Logger } from "../../logger";
import type { RunToolSource, RunToolRequest } from "../run-tools";
import type { Tool } from "../tool";
import { mcpError, redact, secretValues } from "./mcp-errors";
import { mcpResultText } from "./mcp-result";
import { McpPoolFullError, type McpLease, type McpSessionPool } from "./mcp-session-pool";
import type { McpToolList } from "./mcp-tool-list";
import { mcpModelToolName } from "./mcp-tool-name";

export interface McpToolSourceOptions {
  pool: McpSessionPool;
  logger: Logger;
  /** Longest tool result text given to the model; longer ones are cut with a marker. */
  maxResultChars: number;
}

/**
 * The tools of a run's MCP servers: for each server the platform sent, a pooled session (see
 * mcp-session-pool), its cached tool list, and of those only the tools granted to the agent.
 * A server that cannot be opened (unreachable, needs authorising, refused by the SSRF guard, or
 * the organisation's sessions all busy) offers nothing to this run, and the log says why.
 */
export function createMcpToolSource(options: McpToolSourceOptions): RunToolSource {
  const { logger } = options;

  async function openServer(request: RunToolRequest, server: RunMcpServer): Promise<{ lease: McpLease; tools: Tool[] } | undefined> {
    // Tools granted `ask` are offered too: the agent loop pauses each call for a member's approval (issue 15).
    const granted = new Map(server.tools.map((grant) => [grant.name, grant.mode]));
    if (granted.size === 0) return undefined;
    const secrets = secretValues(server.headers);
    const note = (why: string) => logger.warn(`run ${request.runId}: the tools of MCP server "${server.namespace}" are not offered: ${why}`);
    let opened: { lease: McpLease; listed: McpToolList };
    try {
      opened = await leaseAndList(request, server);
    } catch (error) {
      if (error instanceof McpPoolFullError) note(error.message);
      else {
        const known = mcpError(error, { namespace: server.namespace, action: "connect", secrets });
        note(`${known.code}: ${known.message}`);
      }
      return undefined;
    }
    const { lease, listed } = opened;
    const tools = listed.tools
      .filter((tool) => granted.has(tool.name))
      .map((tool): Tool => ({
        spec: { name: mcpModelToolName(server.namespace, tool.name), description: tool.description, inputSchema: tool.inputSchema },
        grantMode: granted.get(tool.name) ?? "allow",
        alsoKnownAs: `mcp__${server.namespace}__${tool.name}`,
        execute: async (input, context) => {
          if (input === null || typeof input !== "object" || Array.isArray(input)) {
            throw new AppError("validation_failed", `the input of ${tool.name} must be a JSON object`);
          }
          const result = await lease.session.call(tool.name, input as Record<string, unknown>, context.signal);
          // A tool echoing a request header back must not put the credential in the transcript.
          const text = redact(mcpResultText(result, options.maxResultChars), secrets);
          if (result.isError === true) throw new AppError("mcp_tool_error", text || `the ${tool.name} tool of MCP server "${server.namespace}" failed without saying why`);
          return text;
        },
      }));
    const missing = [...granted.keys()].filter((name) => !listed.tools.some((tool) => tool.name === name));
    if (missing.length > 0) logger.info(`run ${request.runId}: MCP server "${server.namespace}" no longer offers granted tools: ${missing.join(", ")}`);
    return { lease, tools };
  }

  /** A session and its tool list; a pooled session the server has since forgotten closes on failing, and is replaced once. */
  async function leaseAndList(request: RunToolRequest, server: RunMcpServer, retried = false): Promise<{ lease: McpLease; listed: McpToolList }> {
    const lease = await options.pool.acquire(request.tenantId, server, request.signal);
    try {
      return { lease, listed: await lease.session.tools() };
    } catch (error) {
      lease.release();
      if (!retried && lease.session.closed) return leaseAndList(request, server, true);
      throw error;
    }
  }

  return {
    async open(request) {
      const opened = (await Promise.all(request.integrations.mcp.map((server) => openServer(request, server)))).filter((entry) => entry !== undefined);
      return {
        tools: opened.flatMap((entry) => entry.tools),
        close() {
          for (const entry of opened) entry.lease.release();
        },
      };
    },
  };
}
