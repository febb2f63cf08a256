import type { LogContext, Logger, Tracer } from "@workforce/logging";
import type { Context } from "hono";
import { createApp, type AppDeps } from "./app";
import type { AccessTokenIssuer, AccessTokenVerifier } from "./auth/access-token";
import type { JsonWebKeySet } from "./auth/signing-keys";
import { createAccountMail } from "./auth/account-mail";
import { createAuthCache, type AuthCache } from "./auth/auth-cache";
import type { AuthGuards, PasswordHasher } from "./auth/auth-ports";
import { createAuthService, type AuthService, type EmailConfirmation } from "./auth/auth-service";
import type { SessionLifetimes } from "./auth/auth-sessions";
import { requireActiveSession } from "./auth/session-verifier";
import type { SignupPolicy } from "./auth/signup-policy";
import type { OpenDatabase } from "./db/open-database";
import { API_LIMIT_DEFAULTS, createDatabaseApiLimiter, type ApiLimiter, type ApiLimits, type ApiLimitsSource } from "./limits/api-limits";
import type { GatewayClient } from "./gateway-client";
import type { CorsOrigins } from "./http/cors-policy";
import type { Mailer } from "./mail/mailer";
import type { PlatformMetrics } from "./ops/metrics/platform-metrics";
import type { StreamStats } from "./stream-stats";
import { createTenancy, type Tenancy } from "./tenancy";
import { createUsageIngest, type IngestReaction, type UsageIngest } from "./tenancy/usage-ingest";
import { createSessionOwners } from "./chat/session-owners";
import { createJobRunner, type JobRunner, type JobRunnerOptions } from "./jobs/job-queue";
import { createPlatformRuns, type FirePlatformRun } from "./jobs/fire-run";
import { recordRunEvents } from "./jobs/run-events";
import { recordFiringOutcomes, registerScheduleWork } from "./jobs/schedules/schedule-firing";
import { recordHeartbeatOutcomes } from "./jobs/heartbeat-outcomes";
import { registerHeartbeats } from "./jobs/heartbeats";
import { registerSessionIndexing, sessionIndexReaction } from "./search/session-index";
import { createApprovals, DEFAULT_APPROVAL_TIMEOUT_MINUTES, type Approvals } from "./approvals/approvals";
import { approvalIngestReaction } from "./approvals/approval-ingest";
import { recordBudgetThresholds } from "./tenancy/budget-threshold-events";
import { createWebhooks, type WebhookOptions } from "./webhooks/webhooks";
import { createUsageRecorder, type UsageRecorder } from "./usage-recorder";
import { createLimitsReader, type LimitsReader } from "./tenant-limits/limits-reader";
import { createPolicyPusher, type PolicyPusher } from "./tenant-limits/policy-push";
import type { TenantLimitDefaults } from "./tenant-limits/tenant-limits";
import { createIntegrations, type IntegrationOptions } from "./integrations/integrations";
import type { TenantSecrets } from "./secrets/tenant-secrets";
import { gatewayMcpToolLister, gatewayWebCapabilities } from "./integrations/mcp/gateway-mcp-adapters";
import type { McpToolLister, WebCapabilities } from "./integrations/mcp/mcp-ports";

/** WORKFORCE_TENANT_* unset: the same defaults as the gateway's. */
export const DEFAULT_TENANT_LIMIT_DEFAULTS: TenantLimitDefaults = { maxConcurrentRuns: 4, maxQueuedRuns: 200, diskMb: 2_048 };

/** Everything the platform is built from; main.ts reads it from the environment, tests make their own. */
export interface PlatformParts {
  database: Pick<OpenDatabase, "db" | "system">;
  gateway: GatewayClient;
  stats: StreamStats;
  now: () => Date;
  publicUrl: string;
  signup: SignupPolicy;
  confirmation: EmailConfirmation;
  defaultMonthlyTokens: number | null;
  sessionLifetimes?: SessionLifetimes;
  mailer: Mailer;
  /** The outbox directory when `mailer` is the local outbox. */
  outboxDir: string | undefined;
  /** Embedded auth: signs and verifies our own tokens. Undefined when hosted Supabase issues them. */
  embedded: { issueAccessToken: AccessTokenIssuer; verify: AccessTokenVerifier; jwks?: () => JsonWebKeySet; passwords: PasswordHasher; guards: AuthGuards } | undefined;
  /** Hosted Supabase: its tokens' verifier and where the web app finds it. */
  supabase: { verify: AccessTokenVerifier; url: string; anonKey: string | undefined } | undefined;
  clientAddress: (c: Context) => string;
  isLoopback: (c: Context) => boolean;
  tenantDataDir: string;
  webDistDir: string;
  logError: (message: string, error: unknown) => void;
  /** Request ids and the access log (see AppDeps); tests may leave them out. */
  logger?: Logger;
  logContext?: LogContext;
  /** Request spans when OTEL_EXPORTER_OTLP_ENDPOINT is set (see AppDeps). */
  tracer?: Tracer | undefined;
  heartbeatMs?: number;
  usage?: UsageRecorder;
  authCache?: AuthCache;
  /** How often `ingest.start()` reads the gateway's usage journals (WORKFORCE_USAGE_INGEST_MS); default 5 s. */
  usageIngestMs?: number;
  /** Organisations' limits where the operator set none (WORKFORCE_TENANT_*; default as the gateway's). */
  tenantDefaults?: TenantLimitDefaults;
  /** How often unpushed policies are pushed again (2 s). */
  policyReconcileMs?: number;
  /**
   * Requests per minute and open streams per API key and per user: the WORKFORCE_API_* defaults,
   * and where an organisation's overrides come from (default: none, the defaults for everyone).
   */
  apiLimits?: { defaults: ApiLimits; limitsFor?: ApiLimitsSource };
  /** The metrics registry main.ts built (request metrics and `GET /metrics`); none: not measured. */
  metrics?: PlatformMetrics;
  /** WORKFORCE_CORS_ORIGINS: browser origins that may call the API (a web app on a CDN); default none. */
  corsOrigins?: CorsOrigins;
  /** The tenant secret store (integration secrets under the master key); none: integrations needing secrets are refused. */
  secrets?: TenantSecrets;
  /** The operator's integration settings (MCP, Composio, web tools, model keys). */
  integrations?: IntegrationOptions;
  /** Lists an MCP server's tools; default: through the gateway's MCP client. */
  mcpTools?: McpToolLister;
  /** Which web tools the gateway offers; default: what its `GET /v1/capabilities` says. */
  capabilities?: WebCapabilities;
  /** The job runner's settings; tests drive it with `jobs.runDue()` in fake time instead of starting it. */
  jobs?: Pick<JobRunnerOptions, "pollMs" | "workerId" | "leaseMs">;
  /** Schedules' tick period and how late a firing may still run on time (defaults 5 s and 1 minute). */
  schedules?: { tickMs?: number; graceMs?: number };
  /** WORKFORCE_APPROVAL_TIMEOUT_MINUTES: how long a tool call waits for a decision before it is denied (default 60). */
  approvalTimeoutMinutes?: number;
  /** How often the approvals' live updates re-read an organisation (default 1 s). */
  approvalPollMs?: number;
  /** Outbound webhooks' settings beyond the outbound policy (`integrations.outbound`): tests' resolver and timeouts. */
  webhooks?: Omit<WebhookOptions, "outbound">;
}


export interface ComposedPlatform {
  app: ReturnType<typeof createApp>;
  auth: AuthService | undefined;
  tenancy: Tenancy;
  authCache: AuthCache;
  usage: UsageRecorder;
  /** Reads the gateway's usage journals into usage_events: on demand now, periodically once started. */
  ingest: UsageIngest;
  /** Start its reconcile loop with the server, stop it before closing the database. */
  policies: PolicyPusher;
  limitsReader: LimitsReader;
  /** Prune its expired stream leases now and then; close it at shutdown to free this process's streams. */
  apiLimiter: ApiLimiter;
  /** The durable job queue (schedules, heartbeats, webhook deliveries, approval timeouts): start it with the server, stop it before closing the database. */
  jobs: JobRunner;
  /** Starts a run on the platform's own account (schedules, heartbeats, approval resumes). */
  firePlatformRun: FirePlatformRun;
  /** Tool approvals: close at shutdown (their live updates poll). */
  approvals: Approvals;
}

/** Wires the platform's services together (one place for main.ts and the tests). Starts nothing. */
export function composePlatform(parts: PlatformParts): ComposedPlatform {
  const { database, now } = parts;
  const authCache = parts.authCache ?? createAuthCache({ now: () => now().getTime() });
  const usage = parts.usage ?? createUsageRecorder({ db: database.db, logError: parts.logError });
  const jobs = createJobRunner({ system: database.system, now, logError: parts.logError, ...parts.jobs });
  // What follows from ended runs, in the transaction that ingests their journal records (issue 15).
  const approvalTimeoutMs = (parts.approvalTimeoutMinutes ?? DEFAULT_APPROVAL_TIMEOUT_MINUTES) * 60_000;
  const reactions: IngestReaction[] = [recordRunEvents, recordFiringOutcomes, recordHeartbeatOutcomes, approvalIngestReaction({ timeoutMs: approvalTimeoutMs, now }), recordBudgetThresholds, sessionIndexReaction(now)];
  const ingest = createUsageIngest({ db: database.db, system: database.system, gateway: parts.gateway, logError: parts.logError, intervalMs: parts.usageIngestMs ?? 5_000, reactions });
  const tenancy = createTenancy(database.system, now, { defaultMonthlyTokens: parts.defaultMonthlyTokens, signup: parts.signup });
  const tenantDefaults = parts.tenantDefaults ?? DEFAULT_TENANT_LIMIT_DEFAULTS;
  const policies = createPolicyPusher({
    system: database.system,
    putPolicy: (tenantId, policy) => parts.gateway.putTenantPolicy(tenantId, policy),
    defaults: tenantDefaults,
    logError: parts.logError,
    ...(parts.policyReconcileMs === undefined ? {} : { reconcileMs: parts.policyReconcileMs }),
  });
  const apiDefaults = parts.apiLimits?.defaults ?? API_LIMIT_DEFAULTS;
  const limitsReader = createLimitsReader({ db: database.db, defaults: apiDefaults, now: () => now().getTime() });
  const mail = createAccountMail({ mailer: parts.mailer, publicUrl: parts.publicUrl });
  const auth = parts.embedded
    ? createAuthService({
        system: database.system,
        now,
        issueAccessToken: parts.embedded.issueAccessToken,
        passwords: parts.embedded.passwords,
        guards: parts.embedded.guards,
        mail,
        tenancy,
        issuer: `${parts.publicUrl}/auth/v1`,
        signup: parts.signup,
        confirmation: parts.confirmation,
        ...(parts.sessionLifetimes ? { lifetimes: parts.sessionLifetimes } : {}),
        onSessionsEnded: (ids) => authCache.invalidateSessions(ids),
        logError: parts.logError,
      })
    : undefined;
  let verify: AccessTokenVerifier;
  if (parts.embedded && auth) verify = requireActiveSession(parts.embedded.verify, (userId, sessionId) => auth.isSessionActive(userId, sessionId));
  else if (parts.supabase) verify = parts.supabase.verify;
  else throw new Error("composePlatform: either embedded auth or hosted Supabase must be configured");

  // An organisation's own limits (set by the operator in tenant_limits) win over the WORKFORCE_API_* defaults.
  const apiLimiter = createDatabaseApiLimiter({
    system: database.system,
    now,
    logError: parts.logError,
    defaults: apiDefaults,
    limitsFor:
      parts.apiLimits?.limitsFor ??
      (async (tenantId) => {
        const limits = await limitsReader.limitsFor(tenantId);
        return { requestsPerMinute: limits.requestsPerMinute ?? apiDefaults.requestsPerMinute, maxStreams: limits.maxStreams ?? apiDefaults.maxStreams };
      }),
  });
  const integrations = createIntegrations({
    db: database.db,
    system: database.system,
    gateway: parts.gateway,
    now,
    publicUrl: parts.publicUrl,
    logError: parts.logError,
    secrets: parts.secrets,
    options: parts.integrations ?? {},
    mcpTools: parts.mcpTools ?? gatewayMcpToolLister(parts.gateway),
    capabilities: parts.capabilities ?? gatewayWebCapabilities(parts.gateway, () => now().getTime()),
  });
  const owners = createSessionOwners({ db: database.db, now });
  const webhooks = createWebhooks({ db: database.db, system: database.system, secrets: parts.secrets, now, options: { ...parts.webhooks, outbound: parts.integrations?.outbound } });
  webhooks.register(jobs);
  const firePlatformRun = createPlatformRuns({ db: database.db, system: database.system, gateway: parts.gateway, owners, integrations: integrations.runs, now });
  registerScheduleWork(jobs, { db: database.db, system: database.system, now, firePlatformRun, ...parts.schedules });
  registerHeartbeats(jobs, { db: database.db, system: database.system, now, firePlatformRun });
  registerSessionIndexing(jobs, { db: database.db, gateway: parts.gateway, integrations: integrations.runs, now });
  const approvals = createApprovals({
    db: database.db,
    gateway: parts.gateway,
    integrations: integrations.runs,
    jobs,
    streams: apiLimiter,
    now,
    logError: parts.logError,
    timeoutMs: approvalTimeoutMs,
    sync: (tenantId) => ingest.sync(tenantId),
    heartbeatMs: parts.heartbeatMs,
    ...(parts.approvalPollMs === undefined ? {} : { pollMs: parts.approvalPollMs }),
  });
  const deps: AppDeps = {
    integrations,
    approvals,
    work: { jobs, firePlatformRun },
    webhooks,
    db: database.db,
    system: database.system,
    gateway: parts.gateway,
    auth,
    verify,
    ...(parts.embedded ? { authVerify: parts.embedded.verify } : {}),
    stats: parts.stats,
    now,
    publicUrl: parts.publicUrl,
    supabase: parts.supabase ? { url: parts.supabase.url, anonKey: parts.supabase.anonKey } : undefined,
    tenancy,
    signup: parts.signup,
    confirmation: parts.confirmation,
    mail,
    outboxDir: parts.outboxDir,
    clientAddress: parts.clientAddress,
    isLoopback: parts.isLoopback,
    ...(parts.embedded?.jwks ? { jwks: parts.embedded.jwks } : {}),
    tenantDataDir: parts.tenantDataDir,
    webDistDir: parts.webDistDir,
    logError: parts.logError,
    ...(parts.logger && parts.logContext ? { logger: parts.logger, logContext: parts.logContext, tracer: parts.tracer } : {}),
    ...(parts.heartbeatMs === undefined ? {} : { heartbeatMs: parts.heartbeatMs }),
    usage,
    authCache,
    ingest,
    tenantDefaults,
    policies,
    limitsReader,
    apiLimiter,
    ...(parts.metrics ? { metrics: parts.metrics } : {}),
    ...(parts.corsOrigins ? { corsOrigins: parts.corsOrigins } : {}),
  };
  return { app: createApp(deps), auth, tenancy, authCache, usage, ingest, policies, limitsReader, apiLimiter, jobs, firePlatformRun, approvals };
}
