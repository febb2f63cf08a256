/** `npm run migrate -w platform`: applies pending migrations to DATABASE_URL or the embedded PGlite. */
import { ConfigError, loadConfig } from "./config";
import { openDatabase } from "./db/open-database";

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  // Opening migrates (as DATABASE_MIGRATION_URL when set) and checks the application's login.
  const database = await openDatabase({ databaseUrl: config.databaseUrl, migrationUrl: config.databaseMigrationUrl, pgliteDataDir: config.pgliteDataDir });
  await database.close();
  const where = config.databaseUrl ? "DATABASE_URL" : `PGlite at ${config.pgliteDataDir}`;
  process.stdout.write(database.applied.length ? `applied ${database.applied.join(", ")} to ${where}\n` : `${where} is up to date\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
