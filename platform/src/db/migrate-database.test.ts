import { Kysely, Migrator, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminQuery } from "../test-support/test-platform";
import { migrateDatabase } from "./migrate-database";
import { migrationProvider } from "./migrations";
import { openPglite } from "./pglite-open";
import type { DatabaseSchema } from "./schema";

/** On the Postgres server when DATABASE_URL is set (in a schema of its own, like every test worker), else PGlite. */
const databaseUrl = process.env.DATABASE_URL;
let db: Kysely<DatabaseSchema>;
let schema: string | undefined;
let close: () => Promise<void>;
let names: string[];

beforeAll(async () => {
  names = Object.keys(await migrationProvider.getMigrations()).sort();
  if (databaseUrl) {
    schema = `test_migrate_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    await adminQuery(databaseUrl, `create schema "${schema}"`);
    db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 1, options: `-c search_path=${schema}` }) }) });
    close = async () => {
      await db.destroy();
      await adminQuery(databaseUrl, `drop schema "${schema}" cascade`);
    };
  } else {
    const opened = await openPglite({ dataDir: "memory://", migrate: false });
    db = opened.kysely;
    close = () => opened.close();
  }
});
afterAll(async () => {
  await close?.();
});

describe(`migrateDatabase (${databaseUrl ? "Postgres" : "PGlite"})`, { timeout: 120_000 }, () => {
  it("applies what is pending, and then finds nothing to do", async () => {
    // A database one migration behind, as after upgrading to a version that brings one more.
    const migrator = new Migrator({ db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) });
    const behind = await migrator.migrateTo(names.at(-2)!);
    expect(behind.error).toBeUndefined();

    expect(await migrateDatabase(db, schema)).toEqual([names.at(-1)]);
    expect(await migrateDatabase(db, schema)).toEqual([]);
    const users = await sql<{ n: number }>`select count(*)::int as n from users`.execute(db);
    expect(users.rows[0]!.n).toBe(0);
  });

  it("still refuses a database migrated by a newer version", async () => {
    await sql`insert into kysely_migration (name, timestamp) values ('999-from-a-newer-version', ${new Date().toISOString()})`.execute(db);
    await expect(migrateDatabase(db, schema)).rejects.toThrow(/999-from-a-newer-version/);
  });
});
