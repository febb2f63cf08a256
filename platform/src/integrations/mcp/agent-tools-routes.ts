import { randomUUID } from "node:crypto";
import { AgentToolsUpdate, AppError, WebToolName, type AgentToolsView, type ToolMode } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { operationRoutes } from "../../auth/operation-route";
import { audit } from "../../db/audit";
import type { Database } from "../../db/schema";
import { withTenant, type TenantTransaction } from "../../db/scopes";
import type { GatewayClient } from "../../gateway-client";
import { agentSlug } from "../../routes/agents";
import { readJson } from "../../validation";
import type { WebCapabilities } from "./mcp-ports";
import { cachedTools, notFound } from "./mcp-server-store";

export interface AgentToolRouteDeps {
  db: Database;
  gateway: Pick<GatewayClient, "getAgent">;
  capabilities: WebCapabilities;
  now: () => Date;
}

const grantKey = (serverId: string | null, tool: string) => `${serverId ?? "web"}\u0000${tool}`;

/** The web and MCP tools an agent may use (`agents.tools`), and replacing its grants (`agents.update-tools`). */
export function agentToolRoutes(deps: AgentToolRouteDeps) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  async function viewOf(tenantId: string, slug: string): Promise<AgentToolsView> {
    const offered = await deps.capabilities.web();
    const { servers, grants } = await withTenant(deps.db, tenantId, async (trx) => ({
      servers: await trx.selectFrom("mcp_servers").select(["id", "name", "namespace", "status", "tools"]).where("tenant_id", "=", tenantId).orderBy("name").orderBy("created_at").execute(),
      grants: await trx.selectFrom("agent_tool_grants").select(["server_id", "tool", "mode"]).where("tenant_id", "=", tenantId).where("agent_slug", "=", slug).execute(),
    }));
    const modes = new Map<string, ToolMode>(grants.map((grant) => [grantKey(grant.server_id, grant.tool), grant.mode]));
    const view: AgentToolsView = {
      agent: slug,
      web: WebToolName.options.map((name) => ({ name, available: name === "web_fetch" ? offered.fetch : offered.search, mode: modes.get(grantKey(null, name)) ?? null })),
      mcp: servers.map((server) => {
        const listed = cachedTools(server);
        const names = new Set(listed.map((tool) => tool.name));
        const stale = grants.filter((grant) => grant.server_id === server.id && !names.has(grant.tool));
        return {
          serverId: server.id,
          name: server.name,
          namespace: server.namespace,
          status: server.status,
          tools: [
            ...listed.map((tool) => ({ name: tool.name, ...(tool.description ? { description: tool.description } : {}), mode: modes.get(grantKey(server.id, tool.name)) ?? null, listed: true })),
            ...stale.map((grant) => ({ name: grant.tool, mode: grant.mode, listed: false })),
          ],
        };
      }),
    };
    return view;
  }

  route("agents.tools", async (c, { tenantId }) => {
    const slug = agentSlug(c.req.param("slug"));
    // An agent of another organisation (or none) is 404, from the gateway.
    await deps.gateway.getAgent(tenantId, slug);
    return c.json(await viewOf(tenantId, slug));
  });

  route("agents.update-tools", async (c, { tenantId, actor }) => {
    const slug = agentSlug(c.req.param("slug"));
    const { grants } = await readJson(c, AgentToolsUpdate);
    await deps.gateway.getAgent(tenantId, slug);
    await withTenant(deps.db, tenantId, async (trx) => {
      const serverIds = [...new Set(grants.flatMap((grant) => (grant.source === "mcp" ? [grant.serverId] : [])))];
      const servers = serverIds.length
        ? await trx.selectFrom("mcp_servers").select(["id", "namespace", "tools"]).where("tenant_id", "=", tenantId).where("id", "in", serverIds).execute()
        : [];
      const toolsOf = new Map(servers.map((server) => [server.id, new Set(cachedTools(server).map((tool) => tool.name))]));
      const existing = await trx.selectFrom("agent_tool_grants").select(["server_id", "tool"]).where("tenant_id", "=", tenantId).where("agent_slug", "=", slug).execute();
      const alreadyGranted = new Set(existing.map((grant) => grantKey(grant.server_id, grant.tool)));
      const rows = new Map<string, { server_id: string | null; source: "web" | "mcp"; tool: string; mode: ToolMode }>();
      for (const grant of grants) {
        if (grant.source === "web") {
          rows.set(grantKey(null, grant.tool), { server_id: null, source: "web", tool: grant.tool, mode: grant.mode });
          continue;
        }
        const listed = toolsOf.get(grant.serverId);
        if (!listed) throw notFound();
        // A tool the server no longer lists may keep its grant (it comes back when the server lists it again).
        if (!listed.has(grant.tool) && !alreadyGranted.has(grantKey(grant.serverId, grant.tool))) {
          throw new AppError("mcp_unknown_tool", `The MCP server ${grant.serverId} does not list a tool named "${grant.tool.slice(0, 200)}"; refresh its tools first`);
        }
        rows.set(grantKey(grant.serverId, grant.tool), { server_id: grant.serverId, source: "mcp", tool: grant.tool, mode: grant.mode });
      }
      await trx.deleteFrom("agent_tool_grants").where("tenant_id", "=", tenantId).where("agent_slug", "=", slug).execute();
      if (rows.size) {
        await trx
          .insertInto("agent_tool_grants")
          .values([...rows.values()].map((row) => ({ id: randomUUID(), tenant_id: tenantId, agent_slug: slug, ...row, created_at: deps.now() })))
          .execute();
      }
      await audit(trx, { tenantId, actor, action: "agent.tools.update", target: slug, details: { grants: [...rows.values()].map((row) => ({ serverId: row.server_id, tool: row.tool, mode: row.mode })) } });
    });
    return c.json(await viewOf(tenantId, slug));
  });

  return app;
}

/** Drops an agent's grants when the agent is deleted (called in the deletion's transaction). */
export async function deleteAgentGrants(trx: TenantTransaction, tenantId: string, slug: string): Promise<void> {
  await trx.deleteFrom("agent_tool_grants").where("tenant_id", "=", tenantId).where("agent_slug", "=", slug).execute();
}
