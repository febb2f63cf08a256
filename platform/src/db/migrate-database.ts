import { Migrator, sql, type Kysely } from "kysely";
import type { DatabaseSchema } from "./schema";
import { migrationProvider } from "./migrations";

/** Kysely's default name for the table of applied migrations. */
const MIGRATION_TABLE = "kysely_migration";

/**
 * True when the applied migrations are exactly the ones we know: then there is nothing to do, and
 * two reads replace the migrator's work (three catalogue introspections, a lock row, an advisory
 * lock in a transaction), which is most of a start-up's database time. Anything else (no table yet,
 * a pending migration, one we do not know, an error) says false, and the migrator decides as always.
 */
async function allApplied(db: Kysely<DatabaseSchema>, schema: string | undefined, known: string[]): Promise<boolean> {
  try {
    const qualified = schema ? `"${schema.replaceAll('"', '""')}".${MIGRATION_TABLE}` : MIGRATION_TABLE;
    const found = await sql<{ name: string | null }>`select to_regclass(${qualified})::text as name`.execute(db);
    if (!found.rows[0]?.name) return false;
    const table = schema ? sql.id(schema, MIGRATION_TABLE) : sql.id(MIGRATION_TABLE);
    const { rows } = await sql<{ name: string }>`select name from ${table}`.execute(db);
    const applied = new Set(rows.map((row) => row.name));
    return applied.size === known.length && known.every((name) => applied.has(name));
  } catch {
    return false;
  }
}

/** Applies every pending migration (as the tables' owner: `openDatabase` calls it before handing out scoped handles); throws with the failing migration's name and cause. */
export async function migrateDatabase(db: Kysely<DatabaseSchema>, schema?: string): Promise<string[]> {
  if (await allApplied(db, schema, Object.keys(await migrationProvider.getMigrations()))) return [];
  // Kysely looks for its own tables in every schema; name ours, or another schema's would be taken for them.
  const migrator = new Migrator({ db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === "Error");
  if (error !== undefined) {
    const name = failed ? ` (${failed.migrationName})` : "";
    throw new Error(`database migration failed${name}: ${error instanceof Error ? error.message : JSON.stringify(error)}`, { cause: error });
  }
  return (results ?? []).filter((result) => result.status === "Success").map((result) => result.migrationName);
}
