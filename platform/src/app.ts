import { limitBody, requestLogging, type LogContext, type Logger, type Tracer } from "@workforce/logging";
import { AppError, MESSAGE_BODY_MAX_BYTES } from "@workforce/protocol";
import { Hono, type Context, type Handler, type MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env";
import type { AccessTokenVerifier } from "./auth/access-token";
import type { AuthService } from "./auth/auth-service";
import { createAuthCache, type AuthCache } from "./auth/auth-cache";
import { authenticate } from "./auth/authenticate";
import { createBudgetGuard } from "./budgets";
import { createMessageAdmission } from "./chat/message-admission";
import { createSessionOwners } from "./chat/session-owners";
import type { Database, SystemDatabase } from "./db/schema";
import type { GatewayClient } from "./gateway-client";
import { errorResponse, toAppError } from "./http-errors";
import { corsPolicy as createCorsPolicy, type CorsOrigins } from "./http/cors-policy";
import { securityHeaders } from "./http/security-headers";
import { agentRoutes } from "./routes/agents";
import { apiKeyRoutes } from "./routes/api-keys";
import { auditRoutes } from "./routes/audit-log";
import { budgetRoutes } from "./routes/budget";
import { invitationRoutes } from "./routes/invitations";
import { memberRoutes } from "./routes/members";
import { openApiRoutes } from "./routes/openapi";
import { tenantDataRoutes } from "./routes/tenant-data";
import { tenantRoutes } from "./routes/tenants";
import { usageRoutes } from "./routes/usage";
import type { Tenancy } from "./tenancy";
import type { AccountMail } from "./auth/account-mail";
import type { EmailConfirmation } from "./auth/auth-service";
import type { SignupPolicy } from "./auth/signup-policy";
import { withSystem } from "./db/scopes";
import { outboxRoutes } from "./mail/outbox-routes";
import { authRoutes } from "./routes/auth";
import { invitationPreviewRoutes } from "./routes/invitations";
import { operatorRoutes } from "./routes/operator";
import { operatorLimitRoutes } from "./routes/operator-limits";
import { limitRoutes } from "./routes/limits";
import type { LimitsReader } from "./tenant-limits/limits-reader";
import type { PolicyPusher } from "./tenant-limits/policy-push";
import type { TenantLimitDefaults } from "./tenant-limits/tenant-limits";
import { jwksRoutes } from "./routes/jwks";
import type { JsonWebKeySet } from "./auth/signing-keys";
import type { Integrations } from "./integrations/integrations";
import type { JobRunner } from "./jobs/job-queue";
import type { Approvals } from "./approvals/approvals";
import type { FirePlatformRun } from "./jobs/fire-run";
import type { Webhooks } from "./webhooks/webhooks";
import { chatRoutes } from "./routes/chat";
import { scheduleRoutes } from "./jobs/schedules/schedule-routes";
import { healthRoutes } from "./routes/health";
import { heartbeatRoutes } from "./routes/heartbeat";
import { streamProbeRoutes } from "./routes/stream-probe";
import { meRoutes } from "./routes/me";
import { publicConfigRoutes } from "./routes/public-config";
import { sessionRoutes } from "./routes/sessions";
import { searchRoutes } from "./search/search-routes";
import { statsRoutes } from "./routes/stats";
import { createDatabaseApiLimiter, type ApiLimiter } from "./limits/api-limits";
import { createStaticHandler } from "./static";
import type { StreamStats } from "./stream-stats";
import { createUsageIngest, type UsageIngest } from "./tenancy/usage-ingest";
import { createUsageRecorder, type UsageRecorder } from "./usage-recorder";

export const MAX_BODY_BYTES = 1024 * 1024;
const MESSAGES_PATH = /^\/api\/agents\/[^/]+\/messages$/;

export interface AppDeps {
  /**
   * MCP servers, Composio, web tools and model keys (issue 14): their /api routes, and what an
   * agent's run may use. Absent: runs get the workspace tools and the operator's model keys.
   */
  integrations?: Integrations | undefined;
  /** Tool approvals (issue 15): their /api routes, and recording the ones a chat stream sees first. */
  approvals?: Approvals | undefined;
  /** What agents do on their own (issue 15): the job queue, and starting runs on the platform's account. */
  work?: { jobs: JobRunner; firePlatformRun: FirePlatformRun } | undefined;
  /** Outbound webhooks (issue 15): their /api routes. */
  webhooks?: Pick<Webhooks, "routes"> | undefined;
  /** Tenant and user transactions: what routes get. */
  db: Database;
  /** The system scope, for the few cross-tenant operations (sign-in by key, organisations). */
  system: SystemDatabase;
  gateway: GatewayClient;
  /** The embedded GoTrue-compatible auth; undefined when hosted Supabase issues the tokens. */
  auth: AuthService | undefined;
  /** Verifies access tokens on /api (in embedded mode: signature and a signed-in session). */
  verify: AccessTokenVerifier;
  /** Verifies only the signature on /auth/v1, which answers a signed-out session GoTrue's way (403 session_not_found). */
  authVerify?: AccessTokenVerifier;
  stats: StreamStats;
  now: () => Date;
  /** PUBLIC_URL: links in mails and the token issuer; never a request's Host header. */
  publicUrl: string;
  supabase: { url: string; anonKey: string | undefined } | undefined;
  tenancy: Tenancy;
  signup: SignupPolicy;
  confirmation: EmailConfirmation;
  /** Invitation (and account) mails. */
  mail: AccountMail;
  /** The local outbox's directory when mail is not sent (no SMTP_URL): served at /outbox to this machine. */
  outboxDir: string | undefined;
  /** The caller's address (behind WORKFORCE_TRUST_PROXY hops), for rate limits. */
  clientAddress: (c: Context) => string;
  /** A caller on this machine, not through a proxy. */
  isLoopback: (c: Context) => boolean;
  /** The embedded auth's public signing keys, served at /auth/v1/.well-known/jwks.json. */
  jwks?: () => JsonWebKeySet;
  tenantDataDir: string;
  webDistDir: string;
  /** Where unexpected errors are reported (stderr in production). */
  logError: (message: string, error: unknown) => void;
  /** With `logContext`: a request id per request (X-Request-Id) passed on to the gateway, and an access-log line. */
  logger?: Logger;
  /** Lines logged while serving a request carry its id, and its tenant and user once authenticated. */
  logContext?: LogContext;
  /** A server span per request (child of the caller's traceparent), when tracing is on. */
  tracer?: Tracer | undefined;
  /** SSE heartbeat interval (15 s). */
  heartbeatMs?: number;
  /** Batches usage inserts; built here when not given. Flush it before the process exits. */
  usage?: UsageRecorder;
  /** Remembers verified tokens, keys and memberships for a few seconds; built here when not given. */
  authCache?: AuthCache;
  /** Brings the gateway's usage journals into usage_events; built here (not started) when not given. */
  ingest?: UsageIngest;
  /** Organisations' limits where the operator set none (WORKFORCE_TENANT_*). */
  tenantDefaults: TenantLimitDefaults;
  /** Pushes organisations' policies (limits, budget, suspension) to the gateway. */
  policies: PolicyPusher;
  /** Organisations' API limits, cached; told when the operator changes them here. */
  limitsReader?: LimitsReader;
  /** Requests per minute and open streams per API key and per user; built here with the defaults when not given. */
  apiLimiter?: ApiLimiter;
  /** Request metrics (mounted before everything) and `GET /metrics`, outside /api: its own token, no JWT. */
  metrics?: { http: MiddlewareHandler; scrape: Handler };
  /** Browser origins besides the platform's own that may call /api and /auth/v1 (WORKFORCE_CORS_ORIGINS); default none. */
  corsOrigins?: CorsOrigins;
}

/**
 * Node's error for a request whose client hung up mid-body (the body limit reads the stream). Its
 * ECONNRESET code would otherwise pass for the database going away: a 503 and a false alarm.
 */
function isClientAbort(error: unknown): boolean {
  return error instanceof Error && error.message === "aborted" && (error as NodeJS.ErrnoException).code === "ECONNRESET";
}
const CLIENT_ABORTED = () => new AppError("validation_failed", "The request was aborted before it was complete");

/** Builds the platform's HTTP app from its dependencies; starts nothing and reads no environment. */
export function createApp(deps: AppDeps) {
  const app = new Hono();
  if (deps.metrics) {
    app.use("*", deps.metrics.http);
    // A route of its own, so neither the web app's fallback nor /api's auth ever answers for it.
    app.get("/metrics", deps.metrics.scrape);
  }
  const serveStatic = createStaticHandler(deps.webDistDir);
  const logContext = deps.logContext;
  if (deps.logger && logContext) app.use("*", requestLogging({ logger: deps.logger, context: logContext, tracer: deps.tracer }));
  app.use("*", securityHeaders({ publicUrl: deps.publicUrl, supabaseUrl: deps.supabase?.url }));

  app.onError((error, c) => errorResponse(c, isClientAbort(error) ? CLIENT_ABORTED() : toAppError(error, deps.logError)));
  app.notFound(async (c) => {
    // `/auth/confirm` (the link in every mail) is the web app's; only `/auth/v1` is the API's.
    if (!c.req.path.startsWith("/api/") && !c.req.path.startsWith("/auth/v1/") && c.req.path !== "/auth/v1") {
      const page = await serveStatic(c);
      if (page) return page;
    }
    return errorResponse(c, new AppError("not_found", `No route for ${c.req.method} ${c.req.path}`));
  });

  // Liveness for an orchestrator: no database, no gateway, no auth, no rate limit. /api/health is
  // the readiness check; restarting the platform would not bring back a database or a gateway.
  app.get("/livez", (c) => c.json({ status: "ok" }));

  const limitOthers = limitBody({
    maxSize: MAX_BODY_BYTES,
    tooLarge: () => new AppError("payload_too_large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes`, { headers: { connection: "close" } }),
  });
  // A message may carry files (decision 042): its route alone takes more.
  const limitMessage = limitBody({
    maxSize: MESSAGE_BODY_MAX_BYTES,
    tooLarge: () => new AppError("payload_too_large", `A message with its files is limited to ${MESSAGE_BODY_MAX_BYTES} bytes`, { headers: { connection: "close" } }),
  });
  const limit: MiddlewareHandler = (c, next) => (c.req.method === "POST" && MESSAGES_PATH.test(c.req.path) ? limitMessage : limitOthers)(c, next);
  const corsPolicy = createCorsPolicy(deps.corsOrigins ?? []);
  app.use("/api/*", corsPolicy, limit);
  app.use("/auth/*", corsPolicy, limit);

  const authCache = deps.authCache ?? createAuthCache({ now: () => deps.now().getTime() });
  const verify = authCache.verifier(deps.verify);
  // Before the auth routes, whose catch-all would answer for it.
  if (deps.jwks) app.route("/auth/v1", jwksRoutes({ jwks: deps.jwks }));
  if (deps.auth) {
    app.route("/auth/v1", authRoutes({ auth: deps.auth, verify: deps.authVerify ?? verify, signup: deps.signup, confirmation: deps.confirmation, clientAddress: deps.clientAddress }));
  }
  if (deps.outboxDir) app.route("/outbox", outboxRoutes({ dir: deps.outboxDir, isLoopback: deps.isLoopback }));
  // Browsers return here from third-party sign-ins (an MCP server's authorization server, Composio), without our credentials.
  if (deps.integrations) app.route("/", deps.integrations.pages);

  /** Whether a bearer token (if any) is the installation's operator's: they see health details from anywhere. */
  const isOperator = async (c: Context): Promise<boolean> => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    if (!match?.[1]) return false;
    const user = await verify(match[1]).catch(() => undefined);
    if (!user) return false;
    const row = await withSystem(deps.system, (trx) => trx.selectFrom("users").select("is_operator").where("id", "=", user.id).executeTakeFirst());
    return row?.is_operator === true;
  };

  const tenancy = deps.tenancy;
  const api = new Hono<AppEnv>();
  api.route("/health/stream-probe", streamProbeRoutes());
  api.route("/health", healthRoutes({ db: deps.db, gateway: deps.gateway, tenantDataDir: deps.tenantDataDir, isLoopback: deps.isLoopback, isOperator }));
  const hasAccounts = async () => (await withSystem(deps.system, (trx) => trx.selectFrom("users").select("id").limit(1).executeTakeFirst())) !== undefined;
  api.route("/", publicConfigRoutes({ publicUrl: deps.publicUrl, supabase: deps.supabase, signup: deps.signup, hasAccounts }));
  api.route("/", invitationPreviewRoutes({ tenancy }));
  api.route("/", openApiRoutes());
  const usage = deps.usage ?? createUsageRecorder({ db: deps.db, logError: deps.logError });
  const ingest = deps.ingest ?? createUsageIngest({ db: deps.db, system: deps.system, gateway: deps.gateway, logError: deps.logError, intervalMs: 5_000 });
  const guard = createBudgetGuard({ db: deps.db, uncommittedTokens: (tenantId) => usage.uncommittedTokens(tenantId), beforeRead: (tenantId) => ingest.sync(tenantId) });
  api.use(
    "*",
    authenticate({
      db: deps.db,
      system: deps.system,
      verify,
      now: deps.now,
      cache: authCache,
      // Hosted Supabase owns the users; the first API call creates the local records.
      ...(deps.auth ? {} : { provisionUser: (user, request) => tenancy.provisionUser(user, { joiningByInvitation: request.path === "/api/invitations/accept" }) }),
    }),
  );
  if (logContext) {
    api.use("*", async (c, next) => {
      const principal = c.get("principal") as AppEnv["Variables"]["principal"] | undefined;
      logContext.annotate({
        tenantId: c.get("membership")?.id,
        userId: principal?.type === "user" ? principal.user.id : undefined,
        apiKeyId: principal?.type === "api-key" ? principal.keyId : undefined,
      });
      await next();
    });
  }
  const apiLimiter = deps.apiLimiter ?? createDatabaseApiLimiter({ system: deps.system, now: deps.now, logError: deps.logError });
  api.use("*", apiLimiter.requests());
  const { db, gateway, now } = deps;
  const owners = createSessionOwners({ db, now });
  api.route("/", meRoutes({ db, gateway, signup: deps.signup }));
  api.route("/", tenantRoutes({ db, tenancy, signup: deps.signup }));
  api.route("/", tenantDataRoutes({ db, gateway, tenancy, now, authCache, guard, usage, ...(deps.integrations ? { eraseIntegrations: deps.integrations.eraseTenant } : {}) }));
  api.route("/", memberRoutes({ db, now, authCache }));
  api.route("/", invitationRoutes({ db, tenancy, now, mail: deps.mail }));
  const { tenantDefaults: defaults, policies } = deps;
  api.route("/", operatorRoutes({ system: deps.system, now, defaults, policies, authCache, usage }));
  api.route("/", operatorLimitRoutes({ system: deps.system, now, defaults, policies, budget: guard, ...(deps.limitsReader ? { limitsReader: deps.limitsReader } : {}) }));
  api.route("/", apiKeyRoutes({ db, now, authCache }));
  api.route("/", auditRoutes({ db }));
  api.route("/", usageRoutes({ db, now, usage, ingest, gateway }));
  api.route("/", budgetRoutes({ db, now, guard, usage, ingest, policies }));
  api.route("/", limitRoutes({ db, defaults }));
  api.route("/", agentRoutes({ db, gateway, now }));
  api.route("/", sessionRoutes({ db, gateway, owners, now }));
  api.route("/", searchRoutes({ db, owners }));
  if (deps.integrations) api.route("/", deps.integrations.routes);
  if (deps.work) api.route("/", scheduleRoutes({ db, now }));
  if (deps.work) api.route("/", heartbeatRoutes({ db, gateway, now, firePlatformRun: deps.work.firePlatformRun }));
  if (deps.approvals) api.route("/", deps.approvals.routes);
  api.route(
    "/",
    chatRoutes({
      budget: guard,
      usage,
      gateway,
      owners,
      streams: apiLimiter,
      admit: createMessageAdmission({ system: deps.system, streams: apiLimiter, owners, integrations: deps.integrations?.runs, gateway, logError: deps.logError }),
      stats: deps.stats,
      now: () => now().getTime(),
      clock: now,
      heartbeatMs: deps.heartbeatMs,
      logError: deps.logError,
      ...(deps.approvals ? { approvals: deps.approvals.streamed } : {}),
    }),
  );
  if (deps.webhooks) api.route("/", deps.webhooks.routes);
  api.route("/", statsRoutes({ stats: deps.stats }));
  api.all("*", (c) => {
    throw new AppError("not_found", `No route for ${c.req.method} ${c.req.path}`);
  });
  app.route("/api", api);
  return app;
}

export type PlatformApp = ReturnType<typeof createApp>;
