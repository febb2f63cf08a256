import type { PGlite } from "@electric-sql/pglite";
import { Kysely, type LogConfig } from "kysely";
import { migrateDatabase } from "./migrate-database";
import { migrationProvider } from "./migrations";
import { PGliteDialect } from "./pglite-dialect";
import { openPgliteStore } from "./pglite-store";
import type { DatabaseSchema } from "./schema";

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
 * `migrate` is false). In this process: tests, operator commands, the template build; the running
 * platform has it in a process of its own instead (decision 050).
 */
export async function openPglite(options: { dataDir: string; templateDir?: string | undefined; migrate?: boolean; log?: LogConfig | undefined }): Promise<OpenedPglite> {
  const store = await openPgliteStore({ ...options, migrations: Object.keys(await migrationProvider.getMigrations()) });
  const { pglite, seededFromTemplate } = store;
  const kysely = new Kysely<DatabaseSchema>({ dialect: new PGliteDialect(pglite), ...(options.log ? { log: options.log } : {}) });
  const close = async () => {
    await kysely.destroy();
    await store.close();
  };
  try {
    const applied = options.migrate === false ? [] : await migrateDatabase(kysely);
    return { pglite, kysely, seededFromTemplate, applied, close };
  } catch (error) {
    await close();
    throw error;
  }
}
