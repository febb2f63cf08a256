import { Migrator, type Kysely } from "kysely";
import type { DatabaseSchema } from "./schema";
import { migrationProvider } from "./migrations";

/** Applies every pending migration (as the tables' owner: `openDatabase` calls it before handing out scoped handles); throws with the failing migration's name and cause. */
export async function migrateDatabase(db: Kysely<DatabaseSchema>, schema?: string): Promise<string[]> {
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
