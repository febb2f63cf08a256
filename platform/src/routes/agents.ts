import { AgentInput, AgentUpdate, AppError, Slug } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import { audit } from "../db/audit";
import type { Database, TenantTransaction } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";
import { deleteAgentGrants } from "../integrations/mcp/agent-tools-routes";
import { readJson } from "../validation";
import { checkAgentModel, modelRoutes } from "./models";

export interface AgentRoutesDeps {
  db: Database;
  gateway: GatewayClient;
  now: () => Date;
}

/** A slug that cannot name an agent names no agent: 404, like any other unknown one. */
export function agentSlug(value: string): string {
  if (!Slug.safeParse(value).success) throw new AppError("agent_not_found", `No agent named "${value.slice(0, 80)}"`);
  return value;
}

/** Agents CRUD: the gateway owns the agent; the platform keeps a row per agent for its own records. */
export function agentRoutes(deps: AgentRoutesDeps) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  const record = (trx: TenantTransaction, tenantId: string, slug: string, name: string) =>
    trx
      .insertInto("agents")
      .values({ tenant_id: tenantId, slug, name, created_at: deps.now(), updated_at: deps.now() })
      .onConflict((conflict) => conflict.columns(["tenant_id", "slug"]).doUpdateSet({ name, updated_at: deps.now() }))
      .execute();

  modelRoutes(app, deps);
  route("agents.list", async (c, { tenantId }) => c.json({ agents: await deps.gateway.listAgents(tenantId) }));

  route("agents.create", async (c, { tenantId, actor }) => {
    const input = await readJson(c, AgentInput);
    await checkAgentModel(deps, tenantId, input.model);
    const agent = await deps.gateway.createAgent(tenantId, input);
    await withTenant(deps.db, tenantId, async (trx) => {
      await record(trx, tenantId, agent.slug, agent.name);
      await audit(trx, { tenantId, actor, action: "agent.create", target: agent.slug, details: { name: agent.name } });
    });
    return c.json({ agent }, 201);
  });

  route("agents.get", async (c, { tenantId }) => c.json({ agent: await deps.gateway.getAgent(tenantId, agentSlug(c.req.param("slug"))) }));

  route("agents.update", async (c, { tenantId, actor }) => {
    const slug = agentSlug(c.req.param("slug"));
    const update = await readJson(c, AgentUpdate);
    await checkAgentModel(deps, tenantId, update.model);
    const agent = await deps.gateway.updateAgent(tenantId, slug, update);
    await withTenant(deps.db, tenantId, async (trx) => {
      await record(trx, tenantId, slug, agent.name);
      await audit(trx, { tenantId, actor, action: "agent.update", target: slug, details: { fields: Object.keys(update) } });
    });
    return c.json({ agent });
  });

  route("agents.delete", async (c, { tenantId, actor }) => {
    const slug = agentSlug(c.req.param("slug"));
    await deps.gateway.deleteAgent(tenantId, slug);
    await withTenant(deps.db, tenantId, async (trx) => {
      await trx.deleteFrom("agents").where("tenant_id", "=", tenantId).where("slug", "=", slug).execute();
      // Its sessions went with it in the gateway.
      await trx.deleteFrom("session_owners").where("tenant_id", "=", tenantId).where("agent_slug", "=", slug).execute();
      // A new agent of the same name starts without its tools.
      await deleteAgentGrants(trx, tenantId, slug);
      await audit(trx, { tenantId, actor, action: "agent.delete", target: slug });
    });
    return c.body(null, 204);
  });

  return app;
}
