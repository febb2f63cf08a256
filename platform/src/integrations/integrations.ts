import { PUBLIC_ONLY, type OutboundPolicy } from "@workforce/net-guard";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { Database, SystemDatabase } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";
import type { TenantSecrets } from "../secrets/tenant-secrets";
import { createComposioIntegration, type ComposioOptions } from "./composio/composio-integration";
import { agentToolRoutes } from "./mcp/agent-tools-routes";
import { guardedUrlGuard } from "./mcp/guarded-url-guard";
import { createMcpOAuth } from "./mcp/mcp-oauth";
import { mcpOAuthCallbackRoutes } from "./mcp/mcp-oauth-callback";
import type { McpToolLister, UrlGuard, WebCapabilities } from "./mcp/mcp-ports";
import { createMcpRunPart } from "./mcp/mcp-run-part";
import { mcpServerRoutes } from "./mcp/mcp-server-routes";
import { secretRoutes } from "../routes/secrets";
import { DEFAULT_MODEL_KEY_OPTIONS, modelKeyRoutes, modelKeysPart, type ModelKeyOptions } from "./model-keys";
import { createRunIntegrations, type RunIntegrationPart, type RunIntegrationsResolver } from "./run-integrations";
import { createToolModesPart, toolModeRoutes } from "./tool-modes";

/** Issue 14's integrations as the app mounts them: their /api routes and the resolver of a run's share. */
export interface Integrations {
  /** Mounted at /api. */
  routes: Hono<AppEnv>;
  runs: RunIntegrationsResolver;
  /** Mounted at the root, outside /api and its JWT auth: where browsers come back from third-party sign-ins. */
  pages: Hono;
  /** Before an organisation's rows are erased: removes what the integrations hold for it elsewhere (Composio's connected accounts). */
  eraseTenant: (tenantId: string) => Promise<void>;
}

/** The operator's settings of the integrations (platform configuration); each kind adds its own. */
export interface IntegrationOptions {
  /** COMPOSIO_API_KEY and COMPOSIO_BASE_URL; absent: no Composio (the feature is hidden). */
  composio?: ComposioOptions | undefined;
  /** Organisations' own model keys: whether the operator's key is the fallback. */
  modelKeys?: Partial<ModelKeyOptions>;
  /** Where URLs organisations register may point (WORKFORCE_OUTBOUND_ALLOW_PRIVATE / _ALLOW_HOSTS); public addresses only by default. */
  outbound?: OutboundPolicy;
}

export interface IntegrationDeps {
  db: Database;
  /** For the OAuth callback, which finds its organisation by the state it carries. */
  system: SystemDatabase;
  gateway: GatewayClient;
  now: () => Date;
  /** PUBLIC_URL: OAuth redirect URIs and where the browser returns. */
  publicUrl: string;
  logError: (message: string, error: unknown) => void;
  /** The tenant secret store; without it (no master key), nothing that needs a secret can be set up. */
  secrets: TenantSecrets | undefined;
  options: IntegrationOptions;
  /** Outgoing calls to integration backends (Composio); default the global fetch. */
  fetch?: typeof fetch;
  /** The SSRF guard for organisation-given URLs (MCP servers, their authorization servers); default: under `options.outbound`. */
  urlGuard?: UrlGuard;
  /** Lists an MCP server's tools through the gateway. */
  mcpTools: McpToolLister;
  /** What the gateway offers (web search configured?). */
  capabilities: WebCapabilities;
}

/**
 * Each kind (MCP servers, Composio, web tools, model keys) adds its routes and its part here;
 * `compose-platform.ts` builds this once per process from the platform's configuration.
 */
export function createIntegrations(deps: IntegrationDeps): Integrations {
  const routes = new Hono<AppEnv>();
  const pages = new Hono();
  routes.route("/", secretRoutes({ db: deps.db, secrets: deps.secrets }));
  const parts: RunIntegrationPart[] = [];
  const composio = createComposioIntegration({
    db: deps.db,
    now: deps.now,
    logError: deps.logError,
    publicUrl: deps.publicUrl,
    options: deps.options.composio,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  routes.route("/", composio.routes);
  pages.route("/", composio.pages);
  parts.push(composio.part);

  const modelKeys = {
    db: deps.db,
    now: deps.now,
    secrets: deps.secrets,
    options: { ...DEFAULT_MODEL_KEY_OPTIONS, ...deps.options.modelKeys },
    outbound: deps.options.outbound ?? PUBLIC_ONLY,
  };
  routes.route("/", modelKeyRoutes(modelKeys));
  parts.push(modelKeysPart(modelKeys));

  // MCP servers: their URLs and their authorization servers' only through the SSRF guard.
  const urlGuard = deps.urlGuard ?? guardedUrlGuard(deps.options.outbound ?? PUBLIC_ONLY);
  const oauth = createMcpOAuth({ db: deps.db, system: deps.system, secrets: deps.secrets, guard: urlGuard, now: deps.now, publicUrl: deps.publicUrl, logError: deps.logError });
  routes.route("/", mcpServerRoutes({ db: deps.db, secrets: deps.secrets, now: deps.now, tools: deps.mcpTools, guard: urlGuard, oauth }));
  routes.route("/", agentToolRoutes({ db: deps.db, gateway: deps.gateway, capabilities: deps.capabilities, now: deps.now }));
  pages.route("/", mcpOAuthCallbackRoutes(oauth));
  parts.push(createMcpRunPart({ secrets: deps.secrets, oauth, capabilities: deps.capabilities, logError: deps.logError }));
  // Allow / ask / deny of the workspace and web tools (issue 15); MCP and Composio grants carry their own.
  routes.route("/", toolModeRoutes({ db: deps.db, gateway: deps.gateway, capabilities: deps.capabilities, now: deps.now }));
  parts.push(createToolModesPart());

  return { routes, pages, runs: createRunIntegrations(deps.db, parts), eraseTenant: (tenantId) => composio.eraseTenant(tenantId) };
}
