/**
 * The Postgres side of `workforce backup` / `restore`: pg_dump and psql for real, on databases of
 * their own (created and dropped here), migrated by the platform, with forced row-level security.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../db/open-database";
import { withSystem } from "../../db/scopes";
import { adminQuery } from "../../test-support/test-platform";
import { assertBypassesRls, assertEmptyPostgres, pgDump, psqlRestore } from "./postgres-tools";

const databaseUrl = process.env.DATABASE_URL;
const suffix = randomUUID().slice(0, 8);
const names = { source: `wf_backup_src_${suffix}`, target: `wf_backup_dst_${suffix}`, role: `wf_backup_plain_${suffix}` };
const urlOf = (database: string, user?: string) => {
  const url = new URL(databaseUrl!);
  url.pathname = `/${database}`;
  if (user) {
    url.username = user;
    url.password = "plain-password";
  }
  return url.toString();
};

async function count(url: string, table: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]!.n);
  } finally {
    await client.end();
  }
}

describe.runIf(databaseUrl)("pg_dump and psql for workforce backup / restore (Postgres)", { timeout: 120_000 }, () => {
  beforeAll(async () => {
    for (const name of [names.source, names.target]) await adminQuery(databaseUrl!, `create database "${name}"`);
    await adminQuery(databaseUrl!, `create role "${names.role}" login password 'plain-password'`);
    const database = await openDatabase({ databaseUrl: urlOf(names.source) });
    await withSystem(database.system, async (trx) => {
      const [tenant] = await trx.insertInto("tenants").values({ name: "Acme" }).returning("id").execute();
      const [user] = await trx.insertInto("users").values({ email: "ada@example.com", password_hash: "x" }).returning("id").execute();
      await trx.insertInto("memberships").values({ tenant_id: tenant!.id, user_id: user!.id, role: "owner" }).execute();
    });
    await database.close();
  });
  afterAll(async () => {
    for (const name of [names.source, names.target]) await adminQuery(databaseUrl!, `drop database if exists "${name}" with (force)`);
    await adminQuery(databaseUrl!, `drop role if exists "${names.role}"`);
  });

  it("refuses to dump as a login that row-level security filters, saying how to fix it", async () => {
    await adminQuery(urlOf(names.source), `grant connect on database "${names.source}" to "${names.role}"`);
    await expect(assertBypassesRls(urlOf(names.source, names.role))).rejects.toThrow(
      new RegExp(`the database login "${names.role}" is subject to row-level security, so pg_dump would back up no rows.*alter role "${names.role}" bypassrls`),
    );
  });

  it("dumps every row as a superuser, restores into an empty database, and then refuses that one as not empty", async () => {
    const dump = await pgDump(urlOf(names.source), { PATH: process.env.PATH });
    expect(dump.toString("utf8")).toMatch(/^--/);
    await assertEmptyPostgres(urlOf(names.target));
    await psqlRestore(urlOf(names.target), dump, { PATH: process.env.PATH });
    expect(await count(urlOf(names.target), "tenants")).toBe(1);
    expect(await count(urlOf(names.target), "memberships")).toBe(1);
    // The restored database keeps its forced row-level security: the app's scoped handles still work on it.
    const restored = await openDatabase({ databaseUrl: urlOf(names.target) });
    const emails = await withSystem(restored.system, (trx) => trx.selectFrom("users").select("email").execute());
    await restored.close();
    expect(emails).toEqual([{ email: "ada@example.com" }]);
    await expect(assertEmptyPostgres(urlOf(names.target))).rejects.toThrow(/the target database is not empty \(1 row\(s\) in tenants\)/);
  });
});
