/**
 * The embedded database's named statements (decision 054): a statement is parsed and planned once
 * per connection, and a plan made under one scope never shows another scope's rows.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type OpenDatabase } from "./open-database";
import { prepareStatements, StatementNames } from "./prepared-statements";
import { withSystem, withTenant, type SystemDatabase, type SystemTransaction, type TenantTransaction } from "./scopes";
import { startEmbeddedDatabase, type EmbeddedDatabaseProcess } from "./embedded-database-process";
import { migrationProvider } from "./migrations";
import { BUILT_PGLITE_TEMPLATE as templateDir } from "../test-support/pglite-template-dir";


/** This session's named statements whose text contains `fragment`. */
async function prepared(system: SystemDatabase, fragment: string): Promise<string[]> {
  return withSystem(system, async (trx) =>
    (await sql<{ name: string }>`select name from pg_prepared_statements where strpos(statement, ${fragment}) > 0`.execute(trx)).rows.map((row) => row.name),
  );
}

describe("the embedded database's platform connection", () => {
  let dir: string;
  let database: OpenDatabase;
  let tenantA: string;
  let tenantB: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "workforce-prepared-"));
    database = await openDatabase({ pgliteDataDir: dir, pgliteTemplateDir: templateDir, pgliteProcess: true });
    await withSystem(database.system, async (trx) => {
      [tenantA, tenantB] = (await trx.insertInto("tenants").values([{ name: "A" }, { name: "B" }]).returning("id").execute()).map((row) => row.id) as [string, string];
      await trx
        .insertInto("agents")
        .values([
          { tenant_id: tenantA, slug: "ada", name: "Ada" },
          { tenant_id: tenantB, slug: "bob", name: "Bob" },
        ])
        .execute();
    });
  }, 60_000);
  afterAll(async () => {
    await database?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("prepares a statement once and shows each later scope only its own rows through it", async () => {
    // One statement text, first planned as the system role (every row), then run as each tenant.
    const agents = (trx: TenantTransaction | SystemTransaction) =>
      trx.selectFrom("agents").select("slug").where("name", "!=", "nobody").orderBy("slug").execute();
    expect((await withSystem(database.system, agents)).map((row) => row.slug)).toEqual(["ada", "bob"]);
    for (let round = 0; round < 3; round += 1) {
      expect((await withTenant(database.db, tenantA, agents)).map((row) => row.slug)).toEqual(["ada"]);
      expect((await withTenant(database.db, tenantB, agents)).map((row) => row.slug)).toEqual(["bob"]);
    }
    expect((await withSystem(database.system, agents)).map((row) => row.slug)).toEqual(["ada", "bob"]);
    // All of that through one named statement, parsed once.
    expect(await prepared(database.system, `"name" != $1`)).toHaveLength(1);
  });

  it("refuses, through a statement prepared for one tenant, a write into that tenant from another", async () => {
    const add = (scope: string, into: string, slug: string) =>
      withTenant(database.db, scope, (trx) => trx.insertInto("agents").values({ tenant_id: into, slug, name: slug }).execute());
    await add(tenantA, tenantA, "ada-two");
    await expect(add(tenantB, tenantA, "intruder")).rejects.toThrow(/row-level security/);
    const slugs = await withSystem(database.system, (trx) => trx.selectFrom("agents").select("slug").where("tenant_id", "=", tenantA).orderBy("slug").execute());
    expect(slugs.map((row) => row.slug)).toEqual(["ada", "ada-two"]);
  });
});

describe("prepareStatements on a connection", () => {
  let dir: string;
  let embedded: EmbeddedDatabaseProcess;
  let client: pg.Client;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "workforce-prepared-client-"));
    embedded = await startEmbeddedDatabase({ dataDir: dir, templateDir, migrations: Object.keys(await migrationProvider.getMigrations()) });
    client = new pg.Client({ host: embedded.socketDir, user: "postgres", database: "postgres" });
    await client.connect();
  }, 60_000);
  afterAll(async () => {
    await client?.end();
    await embedded?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("names at most its limit of statement texts; the others still run, unnamed", async () => {
    const names = new StatementNames(2);
    prepareStatements(client, names);
    for (let round = 0; round < 2; round += 1) {
      for (const [index, text] of ["select $1::int + 1 as n", "select $1::int + 2 as n", "select $1::int + 3 as n"].entries()) {
        expect((await client.query<{ n: number }>(text, [10])).rows[0]!.n).toBe(11 + index);
      }
    }
    expect(names.size).toBe(2);
    const { rows } = await client.query<{ statement: string }>("select statement from pg_prepared_statements order by statement");
    expect(rows.map((row) => row.statement)).toEqual(["select $1::int + 1 as n", "select $1::int + 2 as n"]);
  });

  it("leaves queries without parameters (several statements in one string too) and query objects as they were", async () => {
    const results = (await client.query("select 1 as a; select 2 as b")) as unknown as pg.QueryResult[];
    expect(results.map((result) => result.rows[0])).toEqual([{ a: 1 }, { b: 2 }]);
    expect((await client.query({ text: "select $1::text as t", values: ["object"] })).rows).toEqual([{ t: "object" }]);
  });
});
