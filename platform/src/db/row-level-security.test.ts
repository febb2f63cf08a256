import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase } from "../test-support/test-platform";
import type { OpenDatabase } from "./open-database";
import { withTenant, withUser } from "./with-tenant";

let database: OpenDatabase;
let tenantA: string;
let tenantB: string;
let userA: string;
let userB: string;

beforeAll(async () => {
  database = await openTestDatabase();
  const db = database.db;
  [tenantA, tenantB] = (await db.insertInto("tenants").values([{ name: "A" }, { name: "B" }]).returning("id").execute()).map((row) => row.id) as [string, string];
  [userA, userB] = (
    await db
      .insertInto("users")
      .values([
        { email: "a@example.com", password_hash: "x" },
        { email: "b@example.com", password_hash: "y" },
      ])
      .returning("id")
      .execute()
  ).map((row) => row.id) as [string, string];
  await db
    .insertInto("memberships")
    .values([
      { tenant_id: tenantA, user_id: userA, role: "owner" },
      { tenant_id: tenantB, user_id: userB, role: "owner" },
    ])
    .execute();
  await db
    .insertInto("agents")
    .values([
      { tenant_id: tenantA, slug: "ada", name: "Ada" },
      { tenant_id: tenantB, slug: "bob", name: "Bob" },
    ])
    .execute();
});
afterAll(async () => {
  await database?.close();
});

describe(`row-level security (${process.env.DATABASE_URL ? "Postgres" : "PGlite"})`, () => {
  it("runs tenant transactions as a role that cannot bypass RLS", async () => {
    const role = await withTenant(database.db, tenantA, async (trx) => {
      const result = await sql<{ user: string; superuser: boolean; bypass: boolean }>`
        select current_user as user, rolsuper as superuser, rolbypassrls as bypass from pg_roles where rolname = current_user`.execute(trx);
      return result.rows[0];
    });
    expect(role).toEqual({ user: "workforce_app", superuser: false, bypass: false });
  });

  it("shows a query without a tenant filter only its own tenant's rows", async () => {
    const agents = await withTenant(database.db, tenantA, (trx) => trx.selectFrom("agents").select(["slug", "tenant_id"]).execute());
    expect(agents).toEqual([{ slug: "ada", tenant_id: tenantA }]);
    const tenants = await withTenant(database.db, tenantB, (trx) => trx.selectFrom("tenants").select("name").execute());
    expect(tenants).toEqual([{ name: "B" }]);
    const members = await withTenant(database.db, tenantA, (trx) => trx.selectFrom("memberships").select("user_id").execute());
    expect(members).toEqual([{ user_id: userA }]);
    const users = await withTenant(database.db, tenantA, (trx) => trx.selectFrom("users").select("email").execute());
    expect(users).toEqual([{ email: "a@example.com" }]);
  });

  it("refuses to write another tenant's rows and silently skips updating them", async () => {
    await expect(
      withTenant(database.db, tenantA, (trx) => trx.insertInto("agents").values({ tenant_id: tenantB, slug: "evil", name: "Evil" }).execute()),
    ).rejects.toThrow(/row-level security/);
    const updated = await withTenant(database.db, tenantA, (trx) => trx.updateTable("agents").set({ name: "Hacked" }).where("slug", "=", "bob").executeTakeFirst());
    expect(updated.numUpdatedRows).toBe(0n);
    const deleted = await withTenant(database.db, tenantA, (trx) => trx.deleteFrom("agents").executeTakeFirst());
    expect(deleted.numDeletedRows).toBe(1n);
    const bob = await database.db.selectFrom("agents").select("name").where("slug", "=", "bob").executeTakeFirst();
    expect(bob).toEqual({ name: "Bob" });
  });

  it("never exposes password hashes to the app role", async () => {
    await expect(withTenant(database.db, tenantA, (trx) => trx.selectFrom("users").select("password_hash").execute())).rejects.toThrow(
      /permission denied/,
    );
  });

  it("shows a user only their own memberships across tenants", async () => {
    const rows = await withUser(database.db, userB, (trx) => trx.selectFrom("memberships").select("tenant_id").execute());
    expect(rows).toEqual([{ tenant_id: tenantB }]);
  });

  it("shows nothing when no tenant is set", async () => {
    const rows = await withTenant(database.db, "", (trx) => trx.selectFrom("agents").selectAll().execute());
    expect(rows).toEqual([]);
  });

  it("isolates budgets and per-tenant stream counts too", async () => {
    const db = database.db;
    await db.insertInto("tenant_budgets").values([
      { tenant_id: tenantA, monthly_tokens: 10 },
      { tenant_id: tenantB, monthly_tokens: 20 },
    ]).execute();
    await db.insertInto("stream_instances").values({ instance_id: "i1", open_streams: 3, streams_started: 3, events_sent: 0, resumes: 0 }).execute();
    await db.insertInto("stream_tenant_streams").values([
      { instance_id: "i1", tenant_id: tenantA, open_streams: 1 },
      { instance_id: "i1", tenant_id: tenantB, open_streams: 2 },
    ]).execute();
    const budgets = await withTenant(db, tenantA, (trx) => trx.selectFrom("tenant_budgets").select(["tenant_id", "monthly_tokens"]).execute());
    expect(budgets.map((row) => [row.tenant_id, Number(row.monthly_tokens)])).toEqual([[tenantA, 10]]);
    const streams = await withTenant(db, tenantB, (trx) => trx.selectFrom("stream_tenant_streams").select(["tenant_id", "open_streams"]).execute());
    expect(streams).toEqual([{ tenant_id: tenantB, open_streams: 2 }]);
    await expect(
      withTenant(db, tenantA, (trx) => trx.insertInto("stream_tenant_streams").values({ instance_id: "i1", tenant_id: tenantA, open_streams: 9 }).execute()),
    ).rejects.toThrow(/permission denied/);
    const changed = await withTenant(db, tenantA, (trx) => trx.updateTable("tenant_budgets").set({ monthly_tokens: 0 }).where("tenant_id", "=", tenantB).executeTakeFirst());
    expect(changed.numUpdatedRows).toBe(0n);
  });
});
