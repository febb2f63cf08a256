import { existsSync } from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig } from "../config";
import { openDatabase, type OpenDatabase } from "../db/open-database";
import { DatabaseInUseError } from "../db/pglite-lock";
import { loadMasterKey, MasterKeyError, type MasterKey } from "../secrets/master-key";
import { readSecretKeyConfig } from "../secrets/secret-key-config";
import { CliError, type CliContext } from "./cli-command";

/**
 * Opens the platform's database the way the platform does (same variables, same migrations).
 * A PGlite directory the platform has open is refused by its lock: the message says to stop
 * Workforce first. A PGlite directory that does not exist yet is not created behind the operator's back.
 */
export async function openCliDatabase(context: CliContext): Promise<OpenDatabase> {
  let config;
  try {
    config = loadConfig(context.env, context.homeDir);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
  const where = config.databaseUrl ? "the Postgres database of DATABASE_URL" : `the embedded database ${config.pgliteDataDir}`;
  if (!config.databaseUrl && !existsSync(path.join(config.pgliteDataDir, "PG_VERSION"))) {
    throw new CliError(
      `there is no embedded database in ${config.pgliteDataDir} yet: start Workforce once (npm start), or set PGLITE_DATA_DIR (or DATABASE_URL) to the platform's database`,
    );
  }
  let database: OpenDatabase;
  try {
    database = await openDatabase({
      databaseUrl: config.databaseUrl,
      migrationUrl: config.databaseMigrationUrl,
      pgliteDataDir: config.pgliteDataDir,
      pgliteTemplateDir: config.pgliteTemplateDir,
    });
  } catch (error) {
    // Its message already says to stop Workforce first.
    if (error instanceof DatabaseInUseError) throw new CliError(error.message);
    throw new CliError(`cannot open ${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (database.applied.length > 0) context.out(`applied database migrations ${database.applied.join(", ")}`);
  return database;
}

/** The platform's master key. Never creates one: a key made here could not read what the platform encrypted. */
export async function loadCliMasterKey(context: CliContext): Promise<MasterKey> {
  const config = readSecretKeyConfig(context.env, context.homeDir);
  if (!config.ok) throw new CliError(new ConfigError(config.problems).message);
  try {
    const loaded = await loadMasterKey(config.config, { create: false });
    for (const warning of loaded.warnings) context.err(`workforce: warning: ${warning}`);
    return loaded.masterKey;
  } catch (error) {
    if (error instanceof MasterKeyError) throw new CliError(error.message);
    throw error;
  }
}
