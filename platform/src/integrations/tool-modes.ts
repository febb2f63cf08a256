import { randomUUID } from "node:crypto";
import { AgentToolModesUpdate, AppError, WebToolName, WORKSPACE_TOOLS, WorkspaceToolName, type AgentToolMode, type AgentToolModes } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import { audit } from "../db/audit";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";
import { agentSlug } from "../routes/agents";
import { readJson } from "../validation";
import type { WebCapabilities } from "./mcp/mcp-ports";
import type { RunIntegrationPart } from "./run-integrations";

/*
 * How an agent may use each of its built-in tools (issue 15): allow, ask (a member approves each
 * call) or deny (not offered). Workspace tools keep their mode in agent_tool_modes (allow unless
 * set); a web tool's mode is its grant (none: deny), the one the Tools panel's web section sets,
 * so each tool has one place for its mode. MCP and Composio tools carry theirs on their grants.
 */

const WEB_DESCRIPTIONS: Record<WebToolName, string> = { web_fetch: "Fetch a web page", web_search: "Search the web" };

export interface ToolModeDeps {
  db: Database;
  gateway: Pick<GatewayClient, "getAgent">;
  capabilities: WebCapabilities;
  now: () => Date;
}

/** `GET/PUT /api/agents/{slug}/tool-modes`: the workspace and web tools' modes (owners and admins change them). */
export function toolModeRoutes(deps: ToolModeDeps) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  async function viewOf(tenantId: string, slug: string): Promise<AgentToolModes> {
    const offered = await deps.capabilities.web().catch(() => ({ fetch: false, search: false }));
    const { modes, web } = await withTenant(deps.db, tenantId, async (trx) => ({
      modes: await trx.selectFrom("agent_tool_modes").select(["tool", "mode"]).where("tenant_id", "=", tenantId).where("agent_slug", "=", slug).execute(),
      web: await trx.selectFrom("agent_tool_grants").select(["tool", "mode"]).where("tenant_id", "=", tenantId).where("agent_slug", "=", slug).where("source", "=", "web").execute(),
    }));
    const workspaceMode = new Map(modes.map((row) => [row.tool, row.mode]));
    const webMode = new Map<string, AgentToolMode>(web.map((row) => [row.tool, row.mode]));
    return {
      agent: slug,
      tools: [
        ...WORKSPACE_TOOLS.map((tool) => ({ name: tool.name, kind: "workspace" as const, description: tool.description, available: true, mode: workspaceMode.get(tool.name) ?? "allow" })),
        ...WebToolName.options.map((name) => ({ name, kind: "web" as const, description: WEB_DESCRIPTIONS[name], available: name === "web_fetch" ? offered.fetch : offered.search, mode: webMode.get(name) ?? "deny" })),
      ],
    };
  }

  route("agents.tool-modes", async (c, { tenantId }) => {
    const slug = agentSlug(c.req.param("slug"));
    // An agent of another organisation (or none) is 404, from the gateway.
    await deps.gateway.getAgent(tenantId, slug);
    return c.json(await viewOf(tenantId, slug));
  });

  route("agents.update-tool-modes", async (c, { tenantId, actor }) => {
    const slug = agentSlug(c.req.param("slug"));
    const { modes } = await readJson(c, AgentToolModesUpdate);
    const unknown = Object.keys(modes).filter((name) => !WorkspaceToolName.safeParse(name).success && !WebToolName.safeParse(name).success);
    if (unknown.length > 0) {
      throw new AppError("validation_failed", `modes: no built-in tool named ${unknown.slice(0, 5).map((name) => `"${name.slice(0, 60)}"`).join(", ")}; MCP and Composio tools take their mode from their grants`);
    }
    await deps.gateway.getAgent(tenantId, slug);
    const now = deps.now();
    await withTenant(deps.db, tenantId, async (trx) => {
      for (const [tool, mode] of Object.entries(modes)) {
        if (WebToolName.safeParse(tool).success) {
          await trx.deleteFrom("agent_tool_grants").where("tenant_id", "=", tenantId).where("agent_slug", "=", slug).where("source", "=", "web").where("tool", "=", tool).execute();
          if (mode !== "deny") await trx.insertInto("agent_tool_grants").values({ id: randomUUID(), tenant_id: tenantId, agent_slug: slug, source: "web", server_id: null, tool, mode, created_at: now }).execute();
          continue;
        }
        await trx
          .insertInto("agent_tool_modes")
          .values({ tenant_id: tenantId, agent_slug: slug, tool, mode, updated_by: actor.userId, updated_at: now })
          .onConflict((conflict) => conflict.columns(["tenant_id", "agent_slug", "tool"]).doUpdateSet({ mode, updated_by: actor.userId, updated_at: now }))
          .execute();
      }
      await audit(trx, { tenantId, actor, action: "agent.tool_modes.update", target: slug, details: { modes } });
    });
    return c.json(await viewOf(tenantId, slug));
  });

  return app;
}

/**
 * Every run's `toolModes` (issue 15): the agent's workspace tool modes and its web tools granted
 * `ask`. A run whose agent sets none carries none (every offered tool is allowed, as before).
 */
export function createToolModesPart(): RunIntegrationPart {
  return {
    async read(_trx, _tenantId, _agent, agentRows) {
      const rows = [...agentRows.toolModes, ...agentRows.grants.filter((grant) => grant.source === "web" && grant.mode === "ask")];
      return (draft) => {
        if (rows.length === 0) return;
        draft.toolModes = { ...draft.toolModes, ...Object.fromEntries(rows.map((row) => [row.tool, row.mode])) };
      };
    },
  };
}
