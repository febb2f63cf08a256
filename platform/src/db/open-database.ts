import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { PGliteDialect } from "./pglite-dialect";
import type { Database, DatabaseSchema } from "./schema";

export interface OpenDatabase {
  db: Database;
  /** "postgres" (DATABASE_URL) or "pglite" (embedded). */
  kind: "postgres" | "pglite";
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Postgres connection string; when absent the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** Directory of the embedded database; "memory://" keeps it in memory (tests). */
  pgliteDataDir?: string | undefined;
  /** Postgres schema to use instead of public (one per test worker). */
  schema?: string | undefined;
}

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
  const dataDir = options.pgliteDataDir ?? "memory://";
  if (!dataDir.startsWith("memory://")) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const pglite = await PGlite.create(dataDir);
  const db = new Kysely<DatabaseSchema>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: "pglite",
    async close() {
      await db.destroy();
      await pglite.close();
    },
  };
}
