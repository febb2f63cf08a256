import { PUBLIC_ONLY, type OutboundPolicy } from "@workforce/net-guard";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { Database } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";
import type { TenantSecrets } from "../secrets/tenant-secrets";
import { secretRoutes } from "../routes/secrets";
import { DEFAULT_MODEL_KEY_OPTIONS, modelKeyRoutes, modelKeysPart, type ModelKeyOptions } from "./model-keys";
import { createRunIntegrations, type RunIntegrationPart, type RunIntegrationsResolver } from "./run-integrations";

/** Issue 14's integrations as the app mounts them: their /api routes and the resolver of a run's share. */
export interface Integrations {
  /** Mounted at /api. */
  routes: Hono<AppEnv>;
  runs: RunIntegrationsResolver;
}

/** The operator's settings of the integrations (platform configuration); each kind adds its own. */
export interface IntegrationOptions {
  /** Organisations' own model keys: whether the operator's key is the fallback. */
  modelKeys?: Partial<ModelKeyOptions>;
  /** Where URLs organisations register may point (WORKFORCE_OUTBOUND_ALLOW_PRIVATE / _ALLOW_HOSTS); public addresses only by default. */
  outbound?: OutboundPolicy;
}

export interface IntegrationDeps {
  db: Database;
  gateway: GatewayClient;
  now: () => Date;
  logError: (message: string, error: unknown) => void;
  /** The tenant secret store; without it (no master key), nothing that needs a secret can be set up. */
  secrets: TenantSecrets | undefined;
  options: IntegrationOptions;
}

/**
 * Each kind (MCP servers, Composio, web tools, model keys) adds its routes and its part here;
 * `compose-platform.ts` builds this once per process from the platform's configuration.
 */
export function createIntegrations(deps: IntegrationDeps): Integrations {
  const routes = new Hono<AppEnv>();
  routes.route("/", secretRoutes({ db: deps.db, secrets: deps.secrets }));
  const parts: RunIntegrationPart[] = [];

  const modelKeys = {
    db: deps.db,
    now: deps.now,
    secrets: deps.secrets,
    options: { ...DEFAULT_MODEL_KEY_OPTIONS, ...deps.options.modelKeys },
    outbound: deps.options.outbound ?? PUBLIC_ONLY,
  };
  routes.route("/", modelKeyRoutes(modelKeys));
  parts.push(modelKeysPart(modelKeys));

  return { routes, runs: createRunIntegrations(parts) };
}
