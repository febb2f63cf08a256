import { mkdir } from "node:fs/promises";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { migrationProvider } from "./migrations";
import { PGliteDialect } from "./pglite-dialect";
import { seedFromTemplate } from "./pglite-template";
import type { Database, DatabaseSchema } from "./schema";

export interface OpenDatabase {
  db: Database;
  /** "postgres" (DATABASE_URL) or "pglite" (embedded). */
  kind: "postgres" | "pglite";
  /** True when a new PGlite directory was created from the template instead of by initdb. */
  seededFromTemplate?: boolean;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Postgres connection string; when absent the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** Directory of the embedded database; "memory://" keeps it in memory (tests). */
  pgliteDataDir?: string | undefined;
  /** A pre-initialised, migrated PGlite directory that new data directories are copied from. */
  pgliteTemplateDir?: string | undefined;
  /** Postgres schema to use instead of public (one per test worker). */
  schema?: string | undefined;
}

/**
 * Extra Postgres settings of the embedded database. PGlite's Postgres keeps shared_buffers in its
 * WebAssembly memory and touches all of it at start: the default 128 MB is ~120 MB of resident
 * memory that is never given back. The platform's tables are small; 16 MB caches them.
 */
const PGLITE_SETTINGS = ["-c", "shared_buffers=16MB"];

/** Opens Postgres through a pg pool, or the embedded PGlite persisted at `pgliteDataDir`. */
export async function openDatabase(options: DatabaseOptions): Promise<OpenDatabase> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 10,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: "postgres", close: () => db.destroy() };
  }
  // Imported here so a platform on DATABASE_URL never loads PGlite.
  const { PGlite } = await import("@electric-sql/pglite");
  const dataDir = options.pgliteDataDir ?? "memory://";
  let seededFromTemplate = false;
  if (!dataDir.startsWith("memory://")) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    seededFromTemplate = await seedFromTemplate(dataDir, options.pgliteTemplateDir, Object.keys(await migrationProvider.getMigrations()));
  }
  const pglite = await PGlite.create(dataDir, { startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS] });
  const db = new Kysely<DatabaseSchema>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: "pglite",
    seededFromTemplate,
    async close() {
      await db.destroy();
      await pglite.close();
    },
  };
}
