/**
 * The platform after its configuration is read (main.ts): gateway reachable and on the same
 * TENANT_DATA_DIR → database (migrated) → HTTP server. Loaded by main.ts only once it has started
 * the embedded database's process, which opens while this module graph (most of the bundle) loads.
 */
import { randomUUID } from "node:crypto";
import { serve } from "@hono/node-server";
import { startMetricsServer } from "@workforce/metrics";
import { AppError } from "@workforce/protocol";
import { createAuthGuards } from "./auth/auth-ports";
import { createHashLimiter } from "./auth/hash-limiter";
import { createPasswordHasher } from "./auth/password";
import { createSigningKeyRing, type SigningKeyRing } from "./auth/signing-keys";
import { loadMasterKey } from "./secrets/master-key";
import { createTenantSecrets } from "./secrets/tenant-secrets";
import { supabaseTokenVerifier } from "./auth/supabase-verifier";
import type { PlatformConfig } from "./config";
import { dataDirProblem, readDataDirMarker } from "./data-dir-identity";
import type { EmbeddedDatabaseProcess } from "./db/embedded-database-process";
import { openDatabase } from "./db/open-database";
import { createStreamStatsStore, STREAM_STATS_DEFAULTS } from "./db/stream-stats-store";
import { composePlatform } from "./compose-platform";
import { PLATFORM_BACKUP_PATH, platformBackupRoutes } from "./ops/backup/platform-backup-routes";
import { createGatewayClient } from "./gateway-client";
import { createRedisGatewayMembers } from "./chat/gateway-members";
import { createRoutedGatewayClient } from "./chat/routed-gateway-client";
import { createClientAddress } from "./http/client-address";
import { createRateLimiter } from "./limits/rate-limiter";
import { createMailer } from "./mail/create-mailer";
import { createPlatformMetrics } from "./ops/metrics/platform-metrics";
import { createStreamStats } from "./stream-stats";
import { formatTraceparent, spanContextOf, startTracing, type LogContext, type ServiceLogger } from "@workforce/logging";
import { errorReporter } from "./ops/log/platform-logger";
import { waitForGateway } from "./wait-for-gateway";

export interface StartPlatformOptions {
  config: PlatformConfig;
  logger: ServiceLogger;
  logContext: LogContext;
  /** Logs the reason and exits 1. */
  fail: (message: string) => never;
  /** The embedded database's process, started before this module loaded (none on DATABASE_URL). */
  embeddedDatabase?: Promise<EmbeddedDatabaseProcess> | undefined;
}

export async function startPlatform({ config, logger, logContext, fail, embeddedDatabase }: StartPlatformOptions): Promise<void> {
  // Loaded only when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces endpoint) is set.
  const tracer = await startTracing(config.tracing, logger);

  const gatewayOptions = {
    hookToken: config.hookToken,
    requestId: () => logContext.current()?.requestId,
    traceparent: () => {
      const span = spanContextOf(logContext.current());
      return span ? formatTraceparent(span) : undefined;
    },
    onRun: (runId: string) => logContext.annotate({ runId }),
  };
  // With REDIS_URL: the gateways' cluster, each session's messages to its gateway (decision 027).
  const gatewayMembers = config.redis
    ? createRedisGatewayMembers({ ...config.redis, logError: (message, error) => logger.warn(`${message}: ${error instanceof Error ? error.message : String(error)}`) })
    : undefined;
  const gateway = gatewayMembers
    ? createRoutedGatewayClient({ ...gatewayOptions, fallbackUrl: config.gatewayUrl, members: gatewayMembers })
    : createGatewayClient({ ...gatewayOptions, baseUrl: config.gatewayUrl });
  const metrics = createPlatformMetrics({ access: config.metrics, gateway });
  // Open and migrate the database while waiting for the gateway: both take a moment at start-up.
  const opening = openDatabase({
    databaseUrl: config.databaseUrl,
    migrationUrl: config.databaseMigrationUrl,
    pgliteDataDir: config.pgliteDataDir,
    pgliteTemplateDir: config.pgliteTemplateDir,
    // PGlite runs in a process of its own: its WebAssembly off this event loop (decision 050).
    pgliteProcess: true,
    embeddedDatabase,
    onEmbeddedDatabaseEvent: (message) => logger.error(message),
    onEmbeddedDatabaseFatal: (message) => fail(`the embedded database is down: ${message}`),
  }).catch((error: unknown) =>
    fail(`cannot open the database (${config.databaseUrl ? "DATABASE_URL" : `PGlite at ${config.pgliteDataDir}`}): ${error instanceof Error ? error.message : String(error)}`),
  );
  const health = await waitForGateway(gateway, config.gatewayWaitMs).catch((error: unknown) =>
    fail(
      `${error instanceof AppError ? error.message : String(error)} (waited ${config.gatewayWaitMs} ms; start the gateway first or set CLAWDBOT_GATEWAY_URL / GATEWAY_WAIT_MS)`,
    ),
  );
  const problem = dataDirProblem(health, await readDataDirMarker(config.tenantDataDir), config.tenantDataDir);
  if (problem) fail(problem);

  const database = await opening;
  const applied = database.applied;
  if (database.seededFromTemplate) logger.info(`created the embedded database at ${config.pgliteDataDir} from the template`);
  if (applied.length > 0) logger.info(`applied migrations ${applied.join(", ")}`, { migrations: applied });

  const now = () => new Date();
  const logError = errorReporter(logger);
  const issuer = `${config.publicUrl}/auth/v1`;
  // The master key encrypts the organisations' integration secrets (in either auth mode) and the
  // embedded auth's signing keys.
  const master = await loadMasterKey(config.secretKey).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
  for (const warning of master.warnings) logger.warn(warning);
  // During a master-key rotation the previous key still decrypts what is not re-wrapped yet (decision 029).
  const secrets = createTenantSecrets({ keys: { current: master.masterKey, previous: master.previous }, now });
  // Embedded auth signs with asymmetric keys kept in the database, encrypted under the master key.
  let signingKeys: SigningKeyRing | undefined;
  if (!config.supabase) {
    signingKeys = createSigningKeyRing({ system: database.system, masterKey: master.masterKey, previousMasterKey: master.previous, now, logError });
    await signingKeys.load().catch((error: unknown) => fail(`cannot load the signing keys: ${error instanceof Error ? error.message : String(error)}`));
    signingKeys.start();
  }
  const stats = createStreamStats({
    store: createStreamStatsStore(database.system, STREAM_STATS_DEFAULTS),
    instanceId: randomUUID(),
    logError,
  });
  stats.start();
  const mailer = createMailer(config.mail, { logError, now });
  const limiter = createRateLimiter({ system: database.system, now });
  const client = createClientAddress(config.clientAddress);

  const { app, auth, usage, ingest, policies, apiLimiter, jobs, approvals } = composePlatform({
    database,
    gateway,
    stats,
    now,
    publicUrl: config.publicUrl,
    signup: config.signup,
    confirmation: config.emailConfirmation,
    defaultMonthlyTokens: config.defaultMonthlyTokens,
    tenantDefaults: config.tenantDefaults,
    sessionLifetimes: config.sessionLifetimes,
    mailer,
    outboxDir: config.mail.smtpUrl ? undefined : config.mail.outboxDir,
    embedded: signingKeys
      ? {
          issueAccessToken: signingKeys.issueAccessToken,
          verify: signingKeys.verifier({ issuer }),
          jwks: signingKeys.jwks,
          passwords: createPasswordHasher({ limiter: createHashLimiter() }),
          guards: createAuthGuards(limiter),
        }
      : undefined,
    supabase: config.supabase
      ? {
          verify: supabaseTokenVerifier({ supabaseUrl: config.supabase.url, jwtSecret: config.supabase.jwtSecret, now }),
          url: config.supabase.url,
          anonKey: config.supabase.anonKey,
        }
      : undefined,
    clientAddress: (c) => client.address(c),
    isLoopback: (c) => client.isLoopback(c),
    tenantDataDir: config.tenantDataDir,
    webDistDir: config.webDistDir,
    logError,
    logger,
    logContext,
    tracer,
    usageIngestMs: config.usageIngestMs,
    approvalTimeoutMinutes: config.approvalTimeoutMinutes,
    apiLimits: { defaults: config.apiLimits },
    metrics,
    corsOrigins: config.corsOrigins,
    secrets,
    integrations: { modelKeys: config.modelKeys, outbound: config.outbound, composio: config.composio },
  });
  // The database side of `workforce backup` / `workforce restore --tenant` (decision 020).
  app.route(PLATFORM_BACKUP_PATH, platformBackupRoutes({ database, hookToken: config.hookToken }));
  // Usage of every run the gateway executed (hooks, the OpenAI endpoint, streams nobody watched).
  ingest.start();

  // Ended sessions, spent mail tokens, expired rate counters and the stream leases of crashed
  // processes are removed now and then; any platform process may do it.
  const prune = () => {
    void auth?.prune().catch((error: unknown) => logError("could not prune ended sessions", error));
    void limiter.prune().catch((error: unknown) => logError("could not prune rate-limit counters", error));
    void apiLimiter.prune().catch((error: unknown) => logError("could not prune stream leases", error));
  };
  prune();
  const chores = setInterval(prune, 10 * 60_000);
  chores.unref();
  // Organisations' policies that no gateway has accepted yet (it was down) are pushed every few seconds.
  policies.start();
  jobs.start();

  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    const shown = config.host.includes(":") ? `[${config.host}]` : config.host;
    logger.info(
      `listening on http://${shown}:${info.port} (public URL ${config.publicUrl}, gateway ${config.gatewayUrl}, data dir ${config.tenantDataDir}, ` +
        `database ${database.kind === "pglite" ? `PGlite at ${config.pgliteDataDir}` : "Postgres"}, auth ${auth ? "embedded" : "Supabase"}, ` +
        `sign-up ${config.signup.mode}, mail ${mailer.describe()})`,
      { url: `http://${shown}:${info.port}`, publicUrl: config.publicUrl },
    );
    if (!config.mail.smtpUrl) logger.info(`no SMTP_URL: mails are kept in the outbox, readable from this machine at http://127.0.0.1:${info.port}/outbox`);
  });
  server.on("error", (error: NodeJS.ErrnoException) => {
    fail(error.code === "EADDRINUSE" ? `port ${config.port} is already in use; set PORT to a free port` : String(error));
  });
  const { port: metricsPort } = config.metrics;
  const metricsServer =
    metricsPort === undefined
      ? undefined
      : await startMetricsServer(metrics.registry, { ...config.metrics, port: metricsPort }).catch((error: unknown) =>
          fail((error as NodeJS.ErrnoException).code === "EADDRINUSE" ? `METRICS_PORT ${metricsPort} is already in use; choose a free port` : String(error)),
        );
  if (metricsServer) logger.info(`metrics at ${metricsServer.url}/metrics`, { metricsUrl: `${metricsServer.url}/metrics` });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close();
    void metricsServer?.close();
    approvals.close();
    clearInterval(chores);
    signingKeys?.stop();
    // Streams may stay open; do not wait for them longer than a moment.
    setTimeout(() => process.exit(0), 2_000).unref();
    void Promise.all([ingest.stop(), policies.stop(), jobs.stop()])
      .then(() => usage.flush())
      .catch((error: unknown) => logError("could not record the last usage rows", error))
      // Other processes need not wait for the leases to expire to open this one's streams elsewhere.
      .then(() => apiLimiter.close())
      .catch((error: unknown) => logError("could not release the stream leases (they expire on their own)", error))
      .then(() => stats.stop())
      .then(() => mailer.close())
      .then(() => database.close())
      .then(() => gatewayMembers?.close())
      .then(() => tracer?.flush())
      .finally(() => {
        logger.flush();
        process.exit(0);
      });
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
