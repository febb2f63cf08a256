import { AgentInput, AgentUpdate, AppError, Slug } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { Database } from "../db/schema";
import { withTenant } from "../db/with-tenant";
import type { GatewayClient } from "../gateway-client";
import { readJson } from "../validation";

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

  app.get("/", async (c) => c.json({ agents: await deps.gateway.listAgents(c.get("tenant").id) }));

  app.post("/", async (c) => {
    const tenantId = c.get("tenant").id;
    const input = await readJson(c, AgentInput);
    const agent = await deps.gateway.createAgent(tenantId, input);
    await withTenant(deps.db, tenantId, (trx) =>
      trx
        .insertInto("agents")
        .values({ tenant_id: tenantId, slug: agent.slug, name: agent.name, created_at: deps.now(), updated_at: deps.now() })
        .onConflict((conflict) => conflict.columns(["tenant_id", "slug"]).doUpdateSet({ name: agent.name, updated_at: deps.now() }))
        .execute(),
    );
    return c.json({ agent }, 201);
  });

  app.get("/:slug", async (c) => {
    return c.json({ agent: await deps.gateway.getAgent(c.get("tenant").id, agentSlug(c.req.param("slug"))) });
  });

  app.patch("/:slug", async (c) => {
    const tenantId = c.get("tenant").id;
    const slug = agentSlug(c.req.param("slug"));
    const update = await readJson(c, AgentUpdate);
    const agent = await deps.gateway.updateAgent(tenantId, slug, update);
    await withTenant(deps.db, tenantId, (trx) =>
      trx
        .insertInto("agents")
        .values({ tenant_id: tenantId, slug, name: agent.name, created_at: deps.now(), updated_at: deps.now() })
        .onConflict((conflict) => conflict.columns(["tenant_id", "slug"]).doUpdateSet({ name: agent.name, updated_at: deps.now() }))
        .execute(),
    );
    return c.json({ agent });
  });

  app.delete("/:slug", async (c) => {
    const tenantId = c.get("tenant").id;
    const slug = agentSlug(c.req.param("slug"));
    await deps.gateway.deleteAgent(tenantId, slug);
    await withTenant(deps.db, tenantId, (trx) =>
      trx.deleteFrom("agents").where("tenant_id", "=", tenantId).where("slug", "=", slug).execute(),
    );
    return c.body(null, 204);
  });

  return app;
}
