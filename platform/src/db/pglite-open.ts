import { mkdir } from "node:fs/promises";
import type { PGlite } from "@electric-sql/pglite";
import { Kysely } from "kysely";
import { migrateDatabase } from "./migrate-database";
import { migrationProvider } from "./migrations";
import { PGliteDialect } from "./pglite-dialect";
import { lockPgliteDir, type PgliteLock } from "./pglite-lock";
import { seedFromTemplate } from "./pglite-template";
import type { DatabaseSchema } from "./schema";

/**
 * Extra Postgres settings of the embedded database. PGlite's Postgres keeps shared_buffers in its
 * WebAssembly memory and touches all of it at start: the default 128 MB is ~120 MB of resident
 * memory that is never given back. The platform's tables are small; 16 MB caches them.
 */
const PGLITE_SETTINGS = ["-c", "shared_buffers=16MB"];

/** An embedded database opened in this process, migrated, its session still the superuser. */
export interface OpenedPglite {
  pglite: PGlite;
  kysely: Kysely<DatabaseSchema>;
  seededFromTemplate: boolean;
  applied: string[];
  close(): Promise<void>;
}

/**
 * Opens the embedded PGlite at `dataDir` ("memory://" keeps it in memory): takes the directory's
 * lock, makes a new directory a copy of the template, and applies pending migrations (unless
 * `migrate` is false). Used in the platform's process for tests and operator commands, and by the
 * embedded database's own process (decision 050).
 */
export async function openPglite(options: { dataDir: string; templateDir?: string | undefined; migrate?: boolean }): Promise<OpenedPglite> {
  // Imported here so a platform on DATABASE_URL never loads PGlite.
  const { PGlite } = await import("@electric-sql/pglite");
  const { dataDir } = options;
  let seededFromTemplate = false;
  let lock: PgliteLock | undefined;
  if (!dataDir.startsWith("memory://")) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    // PGlite does not lock its directory itself; a second process would corrupt it.
    lock = await lockPgliteDir(dataDir);
  }
  let pglite: PGlite;
  try {
    if (lock) seededFromTemplate = await seedFromTemplate(dataDir, options.templateDir, Object.keys(await migrationProvider.getMigrations()));
    pglite = await PGlite.create(dataDir, { startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS] });
  } catch (error) {
    await lock?.release();
    throw error;
  }
  const kysely = new Kysely<DatabaseSchema>({ dialect: new PGliteDialect(pglite) });
  const close = async () => {
    await kysely.destroy();
    await pglite.close();
    await lock?.release();
  };
  try {
    const applied = options.migrate === false ? [] : await migrateDatabase(kysely);
    return { pglite, kysely, seededFromTemplate, applied, close };
  } catch (error) {
    await close();
    throw error;
  }
}
