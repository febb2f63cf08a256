/**
 * The roles compose's Postgres makes on its first start, made the same way on the real server:
 * init-workforce-roles.sh (what the postgres image runs) with psql on a scratch database, then the
 * platform migrates as the owner and works as the login. Needs a Postgres superuser: DATABASE_URL
 * when set, else the machine's server at 127.0.0.1:5432 (CI starts it); without one this fails.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type OpenDatabase } from "../../platform/src/db/open-database";
import { withSystem, withTenant } from "../../platform/src/db/scopes";
import { repoRoot } from "../manifests";

const run = promisify(execFile);
const adminUrl = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test");
const suffix = `${process.pid}_${randomBytes(4).toString("hex")}`;
const database = `workforce_roles_${suffix}`;
const owner = { name: `workforce_owner_${suffix}`, password: randomBytes(32).toString("hex") };
const login = { name: `workforce_platform_${suffix}`, password: randomBytes(32).toString("hex") };
const script = path.join(repoRoot, "deploy/postgres/init-workforce-roles.sh");

const urlOf = (role: { name: string; password: string }) => {
  const url = new URL(adminUrl);
  url.username = role.name;
  url.password = role.password;
  url.pathname = `/${database}`;
  return url.toString();
};

async function admin<T extends pg.QueryResultRow>(text: string, params: unknown[] = [], onDatabase = "test"): Promise<T[]> {
  const url = new URL(adminUrl);
  if (onDatabase !== "test") url.pathname = `/${onDatabase}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Runs the init script as the postgres image would: POSTGRES_USER/POSTGRES_DB and the passwords in the environment. */
function initRoles(passwords: { owner: string; login: string }) {
  return run("sh", [script], {
    env: {
      PATH: process.env.PATH,
      PGHOST: adminUrl.hostname,
      PGPORT: adminUrl.port || "5432",
      ...(adminUrl.password ? { PGPASSWORD: decodeURIComponent(adminUrl.password) } : {}),
      POSTGRES_USER: decodeURIComponent(adminUrl.username),
      POSTGRES_DB: database,
      WORKFORCE_DB_OWNER: owner.name,
      WORKFORCE_DB_USER: login.name,
      WORKFORCE_DB_OWNER_PASSWORD: passwords.owner,
      WORKFORCE_DB_PASSWORD: passwords.login,
      WORKFORCE_ROLES_SQL: path.join(repoRoot, "deploy/postgres/workforce-roles.sql"),
    },
  });
}

let opened: OpenDatabase | undefined;

beforeAll(async () => {
  try {
    await admin("select 1");
  } catch (error) {
    throw new Error(`this suite needs a Postgres superuser at ${adminUrl.host} (set DATABASE_URL, or start the server): ${String(error)}`);
  }
  await admin(`create database "${database}"`);
});

afterAll(async () => {
  await opened?.close();
  await admin(`drop database if exists "${database}" with (force)`);
  for (const role of [login.name, owner.name]) await admin(`drop role if exists "${role}"`);
});

describe("deploy/postgres: the platform's roles on a fresh server", () => {
  it("refuses to run without both passwords, rather than make roles nobody can log in as", async () => {
    const failed = await initRoles({ owner: owner.password, login: "" }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain("WORKFORCE_DB_PASSWORD");
    expect(await admin("select 1 from pg_roles where rolname = $1", [login.name])).toEqual([]);
  });

  it("lets the owner migrate and the login work through scopes, neither a superuser, with row-level security holding", async () => {
    await initRoles({ owner: owner.password, login: login.password });
    const roles = await admin<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean; rolbypassrls: boolean; rolcreatedb: boolean }>(
      "select rolname, rolsuper, rolcreaterole, rolbypassrls, rolcreatedb from pg_roles where rolname = any($1) order by rolname",
      [[owner.name, login.name]],
    );
    expect(roles.map((role) => role.rolname).sort()).toEqual([owner.name, login.name].sort());
    for (const role of roles) expect(role, role.rolname).toMatchObject({ rolsuper: false, rolcreaterole: false, rolbypassrls: false, rolcreatedb: false });

    // What the platform does at start-up with compose's DATABASE_URL and DATABASE_MIGRATION_URL.
    opened = await openDatabase({ databaseUrl: urlOf(login), migrationUrl: urlOf(owner) });
    expect(opened.applied.length).toBeGreaterThan(0);
    const owners = await admin<{ tableowner: string }>("select distinct tableowner from pg_tables where schemaname = 'public'", [], database);
    expect(owners).toEqual([{ tableowner: owner.name }]);

    const [tenantA, tenantB] = await withSystem(opened.system, async (trx) =>
      (await trx.insertInto("tenants").values([{ name: "A" }, { name: "B" }]).returning("id").execute()).map((row) => row.id),
    );
    for (const [tenantId, slug] of [[tenantA!, "ada"], [tenantB!, "bob"]] as const) {
      await withTenant(opened.db, tenantId, (trx) => trx.insertInto("agents").values({ tenant_id: tenantId, slug, name: slug }).execute());
    }
    expect(await withTenant(opened.db, tenantA!, (trx) => trx.selectFrom("agents").select("slug").execute())).toEqual([{ slug: "ada" }]);

    // The login on a plain connection, outside any scope: FORCEd policies show it nothing, and
    // it can neither turn them off nor read around them.
    const raw = new pg.Client({ connectionString: urlOf(login) });
    await raw.connect();
    try {
      const who = await raw.query<{ superuser: boolean }>("select rolsuper as superuser from pg_roles where rolname = current_user");
      expect(who.rows).toEqual([{ superuser: false }]);
      expect((await raw.query<{ count: string }>("select count(*) from agents")).rows).toEqual([{ count: "0" }]);
      expect((await raw.query<{ count: string }>("select count(*) from tenants")).rows).toEqual([{ count: "0" }]);
      await expect(raw.query("alter table agents disable row level security")).rejects.toThrow(/must be owner/);
      await expect(raw.query("create role intruder")).rejects.toThrow(/permission denied/);
    } finally {
      await raw.end();
    }
    // The owner migrated, and owns; it is still not a superuser, so it cannot make one.
    const ownerClient = new pg.Client({ connectionString: urlOf(owner) });
    await ownerClient.connect();
    try {
      await expect(ownerClient.query("create role intruder superuser")).rejects.toThrow(/must be superuser|permission denied/);
    } finally {
      await ownerClient.end();
    }
  }, 120_000);
});
