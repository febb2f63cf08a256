import { AppError, ModelKeyProvider, modelProblem, type ModelCatalogue } from "@workforce/protocol";
import type { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";

export interface ModelRoutesDeps {
  db: Database;
  gateway: Pick<GatewayClient, "models">;
}

/**
 * The models an agent of this organisation may name: the gateway's catalogue, and which providers
 * the organisation has its own key for (their models are the organisation's to choose, unchecked).
 */
export async function organisationModels(deps: ModelRoutesDeps, tenantId: string): Promise<ModelCatalogue> {
  const [catalogue, rows] = await Promise.all([
    deps.gateway.models(),
    withTenant(deps.db, tenantId, (trx) => trx.selectFrom("model_keys").select("provider").where("tenant_id", "=", tenantId).execute()),
  ]);
  const ownKeys = rows.map((row) => ModelKeyProvider.safeParse(row.provider)).flatMap((parsed) => (parsed.success ? [parsed.data] : []));
  return { ...catalogue, ownKeys };
}

/**
 * Refuses an agent model the organisation cannot be served (model_unavailable), so an agent never
 * saves with a model its runs would not reach (or would silently answer from the offline model).
 */
export async function checkAgentModel(deps: ModelRoutesDeps, tenantId: string, model: string | null | undefined): Promise<void> {
  if (!model?.trim()) return;
  const problem = modelProblem(await organisationModels(deps, tenantId), model);
  if (problem) throw new AppError("model_unavailable", problem);
}

/** `GET /api/models`: what the agent form's model picker offers. */
export function modelRoutes(app: Hono<AppEnv>, deps: ModelRoutesDeps): void {
  operationRoutes(app)("models.list", async (c, { tenantId }) => c.json(await organisationModels(deps, tenantId)));
}
