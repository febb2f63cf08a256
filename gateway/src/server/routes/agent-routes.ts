import { AgentInput, AgentUpdate, AppError } from "@workforce/protocol";
import { assertSlug } from "@workforce/protocol/tenant-path";
import { Hono } from "hono";
import type { AgentStore } from "../../agents/agent-store";
import type { RunManager } from "../../runs/run-manager";
import type { SessionStore } from "../../sessions/session-store";
import type { GatewayEnv } from "../gateway-env";
import { readJsonBody } from "../request-input";

export interface AgentRouteDeps {
  agents: AgentStore;
  sessions: SessionStore;
  runs: RunManager;
  /**
   * Throws AppError when this gateway cannot serve the model (e.g. "openai:…" without an
   * OpenAI-compatible provider), so saving such an agent is refused instead of every run failing.
   */
  checkModel?: ((model: string) => void) | undefined;
}

function checkModel(deps: AgentRouteDeps, model: string | null | undefined): void {
  if (!model?.trim() || !deps.checkModel) return;
  try {
    deps.checkModel(model);
  } catch (error) {
    if (error instanceof AppError) throw new AppError("validation_failed", `body.model: ${error.message}`);
    throw error;
  }
}

/** `/v1/agents` CRUD. */
export function agentRoutes(deps: AgentRouteDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();

  app.get("/", async (c) => c.json({ agents: await deps.agents.list(c.get("tenantId")) }));

  app.post("/", async (c) => {
    const input = await readJsonBody(c, AgentInput);
    checkModel(deps, input.model);
    const agent = await deps.agents.create(c.get("tenantId"), input);
    return c.json({ agent }, 201);
  });

  app.get("/:slug", async (c) => c.json({ agent: await deps.agents.get(c.get("tenantId"), assertSlug(c.req.param("slug"))) }));

  app.patch("/:slug", async (c) => {
    const slug = assertSlug(c.req.param("slug"));
    const update = await readJsonBody(c, AgentUpdate);
    checkModel(deps, update.model);
    return c.json({ agent: await deps.agents.update(c.get("tenantId"), slug, update) });
  });

  app.delete("/:slug", async (c) => {
    const tenantId = c.get("tenantId");
    const slug = assertSlug(c.req.param("slug"));
    await deps.agents.get(tenantId, slug);
    deps.runs.abortWhere(tenantId, slug);
    deps.sessions.forgetAgent({ tenantId, agent: slug });
    await deps.agents.remove(tenantId, slug);
    return c.body(null, 204);
  });

  return app;
}
