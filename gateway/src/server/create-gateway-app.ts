import { AppError, MESSAGE_BODY_MAX_BYTES, NO_CAPABILITIES, type GatewayCapabilities, type GatewayHealth, type ModelCatalogue } from "@workforce/protocol";
import { Hono, type Context, type Handler, type MiddlewareHandler } from "hono";
import type { AgentStore } from "../agents/agent-store";
import type { HeartbeatFiles } from "../agents/heartbeat-file";
import { backupRoutes, type BackupRouteDeps } from "../backup/backup-routes";
import { limitBody, type Tracer } from "@workforce/logging";
import { requestLogging, type LogContext, type Logger } from "../logger";
import { localSubmit, type SubmitRun } from "../runs/run-forwarding";
import type { RunManager } from "../runs/run-manager";
import type { SessionStore } from "../sessions/session-store";
import { requireTenant, requireToken } from "./auth";
import { AuthFailureLimiter, DEFAULT_AUTH_FAILURE_LIMITS } from "./auth-failures";
import { socketAddress } from "./client-address";
import { createErrorHandler } from "./error-handler";
import type { GatewayEnv } from "./gateway-env";
import { agentRoutes } from "./routes/agent-routes";
import { approvalRoutes } from "./routes/approval-routes";
import { CAPABILITIES_PATH, capabilitiesRoute } from "./routes/capabilities-route";
import { chatCompletionsRoutes } from "./routes/chat-completions-routes";
import { CLUSTER_PATH, clusterRoutes } from "./routes/cluster-routes";
import { MODELS_PATH, modelsRoute } from "./routes/models-route";
import { healthRoute } from "./routes/health-route";
import { heartbeatRoutes } from "./routes/heartbeat-routes";
import { hookRoutes } from "./routes/hook-routes";
import { integrationRoutes } from "./routes/integration-routes";
import type { ProbeMcpServer } from "../tools/mcp/mcp-integration";
import { probeRoutes } from "./routes/probe-routes";
import { agentRunRoutes, runRoutes } from "./routes/run-routes";
import { sessionRoutes, type SessionRouteDeps } from "./routes/session-routes";
import type { SessionTitler } from "../sessions/session-titles";
import { tenantRoutes } from "./routes/tenant-routes";
import { USAGE_PENDING_PATH, usageRoutes } from "./routes/usage-routes";
import type { UsageJournal } from "../metering/usage-journal";
import type { DiskUsage } from "../tenants/disk-usage";
import type { TenantPolicies } from "../tenants/tenant-policy";
import type { EraseTenant } from "../tenants/tenant-erasure";
import type { Readiness } from "../readiness";
import type { Membership } from "../coordination/membership";
import { OFFLINE_MODEL } from "../llm/model-catalogue";

export interface GatewayAppDeps {
  agents: AgentStore;
  sessions: SessionStore;
  runs: RunManager;
  /** Starts runs here or at the gateway holding their session (run-forwarding); here only when absent. */
  submitRun?: SubmitRun | undefined;
  /** `GET /v1/cluster/members`: the live gateways (hook token only, no tenant). */
  membership?: Pick<Membership, "memberId" | "clustered" | "members"> | undefined;
  logger: Logger;
  /** Gives each request an id (X-Request-Id) and an access-log line; lines logged while serving it carry its id and tenant. */
  logContext?: LogContext | undefined;
  /** A server span per request (child of the caller's traceparent), when tracing is on. */
  tracer?: Tracer | undefined;
  /** Refuses agent models this gateway cannot serve (see AgentRouteDeps). */
  checkModel?: (model: string) => void;
  /** Erases a tenant's runs, cached state and directory (`DELETE /v1/tenant`). */
  eraseTenant: EraseTenant;
  policies: TenantPolicies;
  /** The tenants' usage journals, read by the platform (`/v1/usage`). */
  journal: UsageJournal;
  /** Bytes per tenant and their quotas (`GET /v1/tenant/disk`). */
  disk: Pick<DiskUsage, "status">;
  /** CLAWDBOT_HOOK_TOKEN; undefined turns auth off (loopback only; config enforces that). */
  hookToken: string | undefined;
  health: () => GatewayHealth;
  /** `GET /readyz`: whether to send this gateway new work (`GET /livez` needs nothing). */
  readiness: () => Promise<Readiness>;
  heartbeatMs?: number;
  /** The client's address, for auth rate limiting and health details; the socket's peer address by default. */
  clientAddress?: (c: Context) => string;
  maxBodyBytes?: number;
  /** Failed-authentication counts, shared with the WebSocket upgrade; a fresh one when absent. */
  authFailures?: AuthFailureLimiter;
  /** `/backup`: consistent snapshots and restores of tenants' files (decision 020); absent, not served. */
  backup?: BackupRouteDeps;
  /** Lists a tenant's MCP server's tools for the platform (`POST /v1/integrations/mcp/tools`); absent, not served. */
  mcpProbe?: ProbeMcpServer | undefined;
  /** Request metrics (mounted before everything) and `GET /metrics` (its own token, not the hook token). */
  metrics?: { http: MiddlewareHandler; scrape: Handler };
  /** `/v1/agents/:slug/heartbeat`: agents' HEARTBEAT.md; absent, not served. */
  heartbeatFiles?: HeartbeatFiles | undefined;
  /** `POST /v1/agents/:slug/sessions/:key/title`: generated session titles (decision 043); absent, not served. */
  titles?: SessionTitler | undefined;
  /** Reads a message's stored file for `GET /v1/agents/:slug/sessions/:key/attachments/:id` (decision 042); absent, not served. */
  readAttachment?: SessionRouteDeps["readAttachment"];
  /** Deletes a message's stored file with its session (decision 042). */
  removeAttachment?: SessionRouteDeps["removeAttachment"];
  /** `GET /v1/capabilities`: what runs may be offered here (web tools); nothing beyond the workspace tools when absent. */
  capabilities?: GatewayCapabilities | undefined;
  /** `GET /v1/models`: the models this gateway can serve; only the offline model when absent. */
  models?: (() => Promise<ModelCatalogue>) | undefined;
}

const offlineCatalogue = async (): Promise<ModelCatalogue> => ({ default: "offline", offline: true, models: [OFFLINE_MODEL], unverified: [] });
const RUNS_PATH = /^\/v1\/agents\/[^/]+\/runs$/;

/** X-Tenant-ID on every route but those about many tenants (the usage one names them in its body, each checked there). */
const tenantUnlessPending: MiddlewareHandler<GatewayEnv> = async (c, next) => {
  if (c.req.path === USAGE_PENDING_PATH || c.req.path === CAPABILITIES_PATH || c.req.path === MODELS_PATH || c.req.path.startsWith(`${CLUSTER_PATH}/`)) await next();
  else await requireTenant(c, next);
};

/** Once X-Tenant-ID is checked, the lines of the request name its tenant. */
const annotateTenant =
  (context: LogContext): MiddlewareHandler<GatewayEnv> =>
  async (c, next) => {
    context.annotate({ tenantId: c.get("tenantId") });
    await next();
  };

/** The gateway's HTTP surface (docs/gateway-api.md), independent of how it is served. */
export function createGatewayApp(deps: GatewayAppDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  if (deps.metrics) {
    app.use("*", deps.metrics.http);
    app.get("/metrics", deps.metrics.scrape);
  }
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const logContext = deps.logContext;
  if (logContext) app.use("*", requestLogging({ logger: deps.logger, context: logContext, tracer: deps.tracer }));
  app.onError(createErrorHandler(deps.logger));
  app.notFound((c) => c.json(new AppError("not_found", `no route for ${c.req.method} ${c.req.path}`).toBody(), 404));

  const authFailures = deps.authFailures ?? new AuthFailureLimiter(DEFAULT_AUTH_FAILURE_LIMITS);
  const clientAddress = deps.clientAddress ?? socketAddress;
  app.get("/", healthRoute({ health: deps.health, hookToken: deps.hookToken, authFailures, clientAddress }));
  app.route("/", probeRoutes({ readiness: deps.readiness }));

  const tooLarge = () => new AppError("payload_too_large", "the request body is too large", { headers: { connection: "close" } });
  const limitOtherBodies = limitBody({ maxSize: deps.maxBodyBytes ?? 1024 * 1024, tooLarge });
  // A message may carry files (decision 042): its route alone takes more.
  const limitMessageBody = limitBody({ maxSize: Math.max(deps.maxBodyBytes ?? 0, MESSAGE_BODY_MAX_BYTES), tooLarge });
  const limitRequestBody: MiddlewareHandler = (c, next) => (c.req.method === "POST" && RUNS_PATH.test(c.req.path) ? limitMessageBody : limitOtherBodies)(c, next);
  const checkToken = requireToken({ token: deps.hookToken, failures: authFailures, clientAddress });
  for (const scope of ["/v1/*", "/hooks/*"]) {
    app.use(scope, limitRequestBody);
    app.use(scope, checkToken);
    app.use(scope, tenantUnlessPending);
    if (logContext) app.use(scope, annotateTenant(logContext));
  }
  const submitRun = deps.submitRun ?? localSubmit(deps.runs);
  const runDeps = { runs: deps.runs, submitRun, heartbeatMs };
  app.route("/v1/agents", agentRoutes(deps));
  app.route("/v1/agents", sessionRoutes(deps));
  app.route("/v1/agents", agentRunRoutes(runDeps));
  if (deps.heartbeatFiles) app.route("/v1/agents", heartbeatRoutes(deps.heartbeatFiles));
  app.route("/v1/agents", approvalRoutes({ ...runDeps, agents: deps.agents, sessions: deps.sessions }));
  app.route("/v1/runs", runRoutes(runDeps));
  app.route("/v1/chat/completions", chatCompletionsRoutes(runDeps));
  app.route("/v1/tenant", tenantRoutes(deps));
  app.route("/v1/usage", usageRoutes(deps));
  app.route("/hooks", hookRoutes(runDeps));
  app.route(CAPABILITIES_PATH, capabilitiesRoute(deps.capabilities ?? NO_CAPABILITIES));
  app.route(MODELS_PATH, modelsRoute(deps.models ?? offlineCatalogue));
  if (deps.mcpProbe) app.route("/v1/integrations", integrationRoutes({ mcpProbe: deps.mcpProbe }));
  if (deps.membership) app.route(CLUSTER_PATH, clusterRoutes(deps.membership));
  if (deps.backup) {
    // No body limit: a restore carries a whole tenant; it is read line by line.
    app.use("/backup/*", checkToken);
    app.route("/backup", backupRoutes(deps.backup));
  }
  return app;
}
