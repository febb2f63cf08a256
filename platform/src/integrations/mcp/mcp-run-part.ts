import type { RunIntegrations, RunMcpServer, ToolGrant } from "@workforce/protocol";
import type { TenantSecrets } from "../../secrets/tenant-secrets";
import type { AgentIntegrationRows, RunIntegrationPart } from "../run-integrations";
import { readCredentials, toRunServer, usableHeaders, type McpCredentials } from "./mcp-connection";
import type { McpOAuth } from "./mcp-oauth";
import type { WebCapabilities } from "./mcp-ports";
import type { McpServerRow } from "./mcp-server-store";

/** What a run's MCP share is built from, read in the transaction. */
interface McpRead {
  grants: AgentIntegrationRows["grants"];
  servers: { row: McpServerRow; credentials: McpCredentials }[];
}

/** RunIntegrations' limits: servers per run, tools per server. */
const MAX_SERVERS = 32;
const MAX_TOOLS = 500;

export interface McpRunPartDeps {
  secrets: TenantSecrets | undefined;
  oauth: McpOAuth;
  capabilities: WebCapabilities;
  logError: (message: string, error: unknown) => void;
}

/**
 * A run's web tools and MCP servers: the agent's grants with each granted server's decrypted
 * headers (an OAuth bearer included), read in the caller's transaction. Afterwards, outside it, an
 * expired OAuth token is refreshed and the gateway asked what web tools it offers; a server whose
 * connection cannot be used is left out, never failing the run.
 */
export function createMcpRunPart(deps: McpRunPartDeps): RunIntegrationPart {
  async function fill(tenantId: string, read: McpRead, draft: RunIntegrations): Promise<void> {
    const web = read.grants.filter((grant) => grant.source === "web");
    // A web tool granted `ask` is offered too: its calls wait for a member's approval (the tool-modes part marks it).
    const allowed = (tool: string) => web.some((grant) => grant.tool === tool);
    if (allowed("web_fetch") || allowed("web_search")) {
      const offered = await deps.capabilities.web().catch(() => ({ fetch: false, search: false }));
      if (allowed("web_fetch") && offered.fetch) draft.web.fetch = true;
      if (allowed("web_search") && offered.search) draft.web.search = true;
    }

    const mcp: RunMcpServer[] = [];
    for (const { row, credentials } of read.servers) {
      const tools: ToolGrant[] = read.grants.filter((grant) => grant.server_id === row.id).slice(0, MAX_TOOLS).map((grant) => ({ name: grant.tool, mode: grant.mode }));
      const headers = await usableHeaders(deps.oauth, tenantId, row, credentials).catch((error: unknown) => {
        deps.logError(`MCP server ${row.id}: its connection could not be prepared for a run`, error);
        return undefined;
      });
      if (headers === undefined) continue;
      mcp.push(toRunServer(row, headers, tools));
    }
    draft.mcp = [...draft.mcp, ...mcp].slice(0, MAX_SERVERS);
  }

  return {
    async read(trx, tenantId, _agent, { grants }) {
      const serverIds = [...new Set(grants.flatMap((grant) => (grant.server_id ? [grant.server_id] : [])))];
      const rows = serverIds.length ? await trx.selectFrom("mcp_servers").selectAll().where("tenant_id", "=", tenantId).where("id", "in", serverIds).orderBy("namespace").limit(MAX_SERVERS).execute() : [];
      const servers: { row: McpServerRow; credentials: McpCredentials }[] = [];
      for (const row of rows) servers.push({ row, credentials: await readCredentials(deps.secrets, trx, tenantId, row) });
      return (draft) => fill(tenantId, { grants, servers }, draft);
    },
  };
}
