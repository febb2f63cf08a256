/**
 * Starts the platform API: validated config → gateway reachable and on the same TENANT_DATA_DIR
 * → database (migrated) → HTTP server. Exits 1 with a readable reason when any step fails.
 */
import { randomUUID } from "node:crypto";
import os from "node:os";
import { serve } from "@hono/node-server";
import { AppError } from "@workforce/protocol";
import { createApp } from "./app";
import { createAuthService } from "./auth/auth-service";
import { createSigningKeyRing, type SigningKeyRing } from "./auth/signing-keys";
import { supabaseTokenVerifier } from "./auth/supabase-verifier";
import { ConfigError, loadConfig } from "./config";
import { dataDirProblem, readDataDirMarker } from "./data-dir-identity";
import { openDatabase } from "./db/open-database";
import { createStreamStatsStore, STREAM_STATS_DEFAULTS } from "./db/stream-stats-store";
import { createGatewayClient } from "./gateway-client";
import { createStreamStats } from "./stream-stats";
import { loadMasterKey } from "./secrets/master-key";
import { readSecretKeyConfig } from "./secrets/secret-key-config";
import { createUsageRecorder } from "./usage-recorder";
import { waitForGateway } from "./wait-for-gateway";

function fail(message: string): never {
  process.stderr.write(`platform: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const secretKey = readSecretKeyConfig(process.env, os.homedir());
  if (!secretKey.ok) fail(new ConfigError(secretKey.problems).message);

  const gateway = createGatewayClient({ baseUrl: config.gatewayUrl, hookToken: config.hookToken });
  // Open and migrate the database while waiting for the gateway: both take a moment at start-up.
  const opening = openDatabase({
    databaseUrl: config.databaseUrl,
    migrationUrl: config.databaseMigrationUrl,
    pgliteDataDir: config.pgliteDataDir,
    pgliteTemplateDir: config.pgliteTemplateDir,
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
  if (database.seededFromTemplate) process.stdout.write(`platform: created the embedded database at ${config.pgliteDataDir} from the template\n`);
  if (applied.length > 0) process.stdout.write(`platform: applied migrations ${applied.join(", ")}\n`);

  const now = () => new Date();
  const logError = (message: string, error: unknown) =>
    process.stderr.write(`platform: ${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  let signingKeys: SigningKeyRing | undefined;
  if (!config.supabase) {
    const master = await loadMasterKey(secretKey.config).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
    for (const warning of master.warnings) process.stderr.write(`platform: WARNING: ${warning}\n`);
    signingKeys = createSigningKeyRing({ system: database.system, masterKey: master.masterKey, now, logError });
    await signingKeys.load().catch((error: unknown) => fail(`cannot load the signing keys: ${error instanceof Error ? error.message : String(error)}`));
    signingKeys.start();
  }
  const auth = signingKeys ? createAuthService({ system: database.system, issueAccessToken: signingKeys.issueAccessToken, now }) : undefined;
  const verify = !signingKeys
    ? supabaseTokenVerifier({ supabaseUrl: config.supabase?.url ?? "", jwtSecret: config.supabase?.jwtSecret, now })
    : signingKeys.verifier({ issuer: config.publicUrl ? `${config.publicUrl}/auth/v1` : undefined });

  const stats = createStreamStats({
    store: createStreamStatsStore(database.system, STREAM_STATS_DEFAULTS),
    instanceId: randomUUID(),
    logError,
  });
  stats.start();

  // Usage rows are batched (written within a second); built here so shutdown can flush them.
  const usage = createUsageRecorder({ db: database.db, logError });
  const app = createApp({
    db: database.db,
    system: database.system,
    usage,
    gateway,
    auth,
    verify,
    jwks: signingKeys?.jwks,
    stats,
    now,
    publicUrl: config.publicUrl,
    supabase: config.supabase,
    tenantDataDir: config.tenantDataDir,
    webDistDir: config.webDistDir,
    logError,
  });

  const server = serve({ fetch: app.fetch, port: config.port, ...(config.host ? { hostname: config.host } : {}) }, (info) => {
    process.stdout.write(
      `platform: listening on http://${config.host ?? "localhost"}:${info.port} (gateway ${config.gatewayUrl}, data dir ${config.tenantDataDir}, ` +
        `database ${database.kind === "pglite" ? `PGlite at ${config.pgliteDataDir}` : "Postgres"}, auth ${auth ? "embedded" : "Supabase"})\n`,
    );
  });
  server.on("error", (error: NodeJS.ErrnoException) => {
    fail(error.code === "EADDRINUSE" ? `port ${config.port} is already in use; set PORT to a free port` : String(error));
  });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close();
    signingKeys?.stop();
    // Streams may stay open; do not wait for them longer than a moment.
    setTimeout(() => process.exit(0), 2_000).unref();
    void usage
      .flush()
      .catch((error: unknown) => logError("could not record the last usage rows", error))
      .then(() => stats.stop())
      .then(() => database.close())
      .finally(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error)));
