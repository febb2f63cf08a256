/**
 * Starts the platform API: validated config → embedded database's process started → the rest in
 * start-platform.ts: gateway reachable and on the same TENANT_DATA_DIR → database (migrated) → HTTP
 * server. Exits 1 with a readable reason when any step fails.
 *
 * This entry loads little on purpose: the embedded database's process is started before the rest of
 * the platform (most of the bundle) is loaded, so PGlite's start-up runs beside that instead of
 * after it (decision 053).
 */
import { createLogContext } from "@workforce/logging";
import { ConfigError, loadConfig } from "./config";
import { formatEnvHelp, PLATFORM_ENV_HELP } from "./config-help";
import { startEmbeddedDatabase } from "./db/embedded-database-process";
import { migrationProvider } from "./db/migrations";
import { createPlatformLogger } from "./ops/log/platform-logger";

// Built before anything else, so that every line (a bad configuration too) is a JSON log line.
const logContext = createLogContext();
const logger = createPlatformLogger(process.env, { context: logContext, pretty: Boolean(process.stdout.isTTY) });

function fail(message: string): never {
  logger.error(message);
  logger.flush();
  process.exit(1);
}

async function main(): Promise<void> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    process.stdout.write(`Usage: node platform/dist/main.js   (the platform API and web app; npm start runs it with the gateway)

Configured by environment variables, all optional on this machine:
${formatEnvHelp(PLATFORM_ENV_HELP)}

Operator commands: npm run workforce -- --help
`);
    return;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  // Without DATABASE_URL: PGlite in a process of its own (decision 050), opened (lock, template
  // copy, PGlite) while the rest of the platform loads; openDatabase migrates it and connects.
  const embeddedDatabase =
    config.databaseUrl || config.pgliteDataDir.startsWith("memory://")
      ? undefined
      : startEmbeddedDatabase({
          dataDir: config.pgliteDataDir,
          templateDir: config.pgliteTemplateDir,
          migrations: Object.keys(await migrationProvider.getMigrations()),
          onRestart: (message) => logger.error(message),
          onFatal: (message) => fail(`the embedded database is down: ${message}`),
        });
  // Its failure is reported where it is awaited (openDatabase, "cannot open the database").
  void embeddedDatabase?.catch(() => undefined);
  const { startPlatform } = await import("./start-platform");
  await startPlatform({ config, logger, logContext, fail, embeddedDatabase });
}

main().catch((error: unknown) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error)));
