/** `npm run migrate -w platform`: applies pending migrations to DATABASE_URL or the embedded PGlite. */
import { ConfigError, loadConfig } from "./config";
import { migrateDatabase } from "./db/migrate-database";
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
  const database = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDataDir: config.pgliteDataDir });
  try {
    const applied = await migrateDatabase(database.db);
    const where = config.databaseUrl ? "DATABASE_URL" : `PGlite at ${config.pgliteDataDir}`;
    process.stdout.write(applied.length ? `applied ${applied.join(", ")} to ${where}\n` : `${where} is up to date\n`);
    return 0;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
