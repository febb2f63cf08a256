import { randomUUID } from "node:crypto";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminQuery, openTestDatabase } from "../test-support/test-platform";
import { migrateDatabase } from "./migrate-database";
import { openDatabase, type OpenDatabase } from "./open-database";
import { PGliteDialect } from "./pglite-dialect";
import type { DatabaseSchema } from "./schema";
import { withSystem, withSystemThenTenant, withTenant, withUser } from "./scopes";

const databaseUrl = process.env.DATABASE_URL;
let database: OpenDatabase;
let tenantA: string;
let tenantB: string;
let userA: string;
let userB: string;

beforeAll(async () => {
  database = await openTestDatabase();
  await withSystem(database.system, async (db) => {
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
});
afterAll(async () => {
  await database?.close();
});

describe(`row-level security (${databaseUrl ? "Postgres" : "PGlite"})`, () => {
  it("runs tenant transactions as a role that cannot bypass RLS", async () => {
    const role = await withTenant(database.db, tenantA, async (trx) => {
      const result = await sql<{ user: string; superuser: boolean; bypass: boolean }>`
        select current_user as user, rolsuper as superuser, rolbypassrls as bypass from pg_roles where rolname = current_user`.execute(trx);
      return result.rows[0];
    });
    expect(role).toEqual({ user: "workforce_app", superuser: false, bypass: false });
  });

  it("forces row-level security on every table, so even their owner is filtered, and lets only the system role see all", async () => {
    const rows = await withSystem(database.system, (trx) =>
      sql<{ relname: string; rls: boolean; forced: boolean; system: boolean }>`
        select c.relname, c.relrowsecurity as rls, c.relforcerowsecurity as forced,
          exists (select 1 from pg_policies p where p.schemaname = current_schema() and p.tablename = c.relname
                  and p.policyname = 'system_access' and p.roles = '{workforce_system}') as system
        from pg_class c
        where c.relnamespace = current_schema()::regnamespace and c.relkind = 'r' and c.relname not like 'kysely_%'`.execute(trx),
    );
    // Every table, including ones added by later migrations: a new table without policies fails here.
    expect(rows.rows.map((row) => row.relname)).toEqual(expect.arrayContaining(["users", "tenants", "agents", "refresh_tokens", "settings"]));
    expect(rows.rows.filter((row) => !row.rls || !row.forced || !row.system).map((row) => row.relname)).toEqual([]);
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

  it("switches one transaction from the system role to a tenant: the tenant step is under row-level security, and both steps commit or neither", async () => {
    const seen = await withSystemThenTenant(
      database.system,
      tenantA,
      async (trx) => (await trx.selectFrom("tenants").select("name").orderBy("name").execute()).map((row) => row.name),
      async (trx, everyTenant) => {
        const who = await sql<{ user: string; tenant: string }>`select current_user as user, current_setting('app.tenant_id') as tenant`.execute(trx);
        return { everyTenant, who: who.rows[0], tenants: await trx.selectFrom("tenants").select("name").execute(), members: await trx.selectFrom("memberships").select("user_id").execute() };
      },
    );
    expect(seen).toEqual({ everyTenant: ["A", "B"], who: { user: "workforce_app", tenant: tenantA }, tenants: [{ name: "A" }], members: [{ user_id: userA }] });

    // The tenant step writing into another tenant fails, and takes the system step's write with it.
    const lease = randomUUID();
    await expect(
      withSystemThenTenant(
        database.system,
        tenantA,
        (trx) => trx.insertInto("stream_leases").values({ id: lease, subject: "key:switch", acquired_at: new Date(), expires_at: new Date(Date.now() + 60_000) }).execute(),
        (trx) => trx.insertInto("agents").values({ tenant_id: tenantB, slug: "intruder", name: "Intruder" }).execute(),
      ),
    ).rejects.toThrow(/row-level security/);
    expect(await withSystem(database.system, (trx) => trx.selectFrom("stream_leases").select("id").where("id", "=", lease).execute())).toEqual([]);
    // The connection goes back to the pool without the tenant or the role: the next system transaction sees everything.
    expect((await withSystem(database.system, (trx) => trx.selectFrom("tenants").select("name").execute())).length).toBeGreaterThanOrEqual(2);
  });

  it("refuses to write another tenant's rows and silently skips updating them", async () => {
    await expect(
      withTenant(database.db, tenantA, (trx) => trx.insertInto("agents").values({ tenant_id: tenantB, slug: "evil", name: "Evil" }).execute()),
    ).rejects.toThrow(/row-level security/);
    const updated = await withTenant(database.db, tenantA, (trx) => trx.updateTable("agents").set({ name: "Hacked" }).where("slug", "=", "bob").executeTakeFirst());
    expect(updated.numUpdatedRows).toBe(0n);
    const deleted = await withTenant(database.db, tenantA, (trx) => trx.deleteFrom("agents").executeTakeFirst());
    expect(deleted.numDeletedRows).toBe(1n);
    const bob = await withSystem(database.system, (trx) => trx.selectFrom("agents").select("name").where("slug", "=", "bob").executeTakeFirst());
    expect(bob).toEqual({ name: "Bob" });
  });

  it("never exposes password hashes, refresh tokens or settings to the app role", async () => {
    await expect(withTenant(database.db, tenantA, (trx) => trx.selectFrom("users").select("password_hash").execute())).rejects.toThrow(/permission denied/);
    await expect(withUser(database.db, userA, (trx) => trx.selectFrom("refresh_tokens").selectAll().execute())).rejects.toThrow(/permission denied/);
    await expect(withTenant(database.db, tenantA, (trx) => trx.selectFrom("settings").selectAll().execute())).rejects.toThrow(/permission denied/);
  });

  it("shows a user only their own memberships across tenants", async () => {
    const rows = await withUser(database.db, userB, (trx) => trx.selectFrom("memberships").select("tenant_id").execute());
    expect(rows).toEqual([{ tenant_id: tenantB }]);
  });

  it("shows nothing when no tenant is set", async () => {
    const rows = await withTenant(database.db, "", (trx) => trx.selectFrom("agents").selectAll().execute());
    expect(rows).toEqual([]);
  });

  it("hands routes a handle they cannot query without a scope", () => {
    const unscoped = () =>
      // @ts-expect-error -- the app's handle has no query builder: only withTenant/withUser open a transaction.
      database.db.selectFrom("agents");
    expect(unscoped).toThrow(TypeError);
  });

  it("keeps schedules and their firings to their organisation, and a firing to its organisation's schedule", async () => {
    const db = database.db;
    const values = (tenant: string, agent: string) => ({ tenant_id: tenant, agent_slug: agent, name: "Daily", kind: "every" as const, every_seconds: 3_600, timezone: "UTC", message: "Report", session_mode: "new" as const, created_by: null, updated_by: null });
    const scheduleB = await withTenant(db, tenantB, async (trx) => (await trx.insertInto("schedules").values(values(tenantB, "bob")).returning("id").executeTakeFirstOrThrow()).id);
    await withTenant(db, tenantB, (trx) => trx.insertInto("schedule_firings").values({ tenant_id: tenantB, schedule_id: scheduleB, scheduled_for: new Date() }).execute());
    expect(await withTenant(db, tenantA, (trx) => trx.selectFrom("schedules").select("id").execute())).toEqual([]);
    expect(await withTenant(db, tenantA, (trx) => trx.selectFrom("schedule_firings").select("id").execute())).toEqual([]);
    await expect(withTenant(db, tenantA, (trx) => trx.insertInto("schedules").values(values(tenantB, "bob")).execute())).rejects.toThrow(/row-level security/);
    // A's firing naming B's schedule: refused by the (organisation, schedule) key.
    await expect(withTenant(db, tenantA, (trx) => trx.insertInto("schedule_firings").values({ tenant_id: tenantA, schedule_id: scheduleB, scheduled_for: new Date() }).execute())).rejects.toThrow(/foreign key/);
    const disabled = await withTenant(db, tenantA, (trx) => trx.updateTable("schedules").set({ enabled: false }).where("id", "=", scheduleB).executeTakeFirst());
    expect(disabled.numUpdatedRows).toBe(0n);
    await withSystem(database.system, (trx) => trx.deleteFrom("schedules").where("id", "=", scheduleB).execute());
  });

  it("isolates budgets and per-tenant stream counts too", async () => {
    await withSystem(database.system, async (db) => {
      await db
        .insertInto("tenant_budgets")
        .values([
          { tenant_id: tenantA, monthly_tokens: 10 },
          { tenant_id: tenantB, monthly_tokens: 20 },
        ])
        .execute();
      await db.insertInto("stream_instances").values({ instance_id: "i1", open_streams: 3, streams_started: 3, events_sent: 0, resumes: 0 }).execute();
      await db
        .insertInto("stream_tenant_streams")
        .values([
          { instance_id: "i1", tenant_id: tenantA, open_streams: 1 },
          { instance_id: "i1", tenant_id: tenantB, open_streams: 2 },
        ])
        .execute();
    });
    const db = database.db;
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

  it("isolates MCP servers, tool grants and pending authorisations, and a grant cannot point at another tenant's server", async () => {
    const [serverA, serverB] = [randomUUID(), randomUUID()];
    await withSystem(database.system, async (db) => {
      await db
        .insertInto("mcp_servers")
        .values([
          { id: serverA, tenant_id: tenantA, name: "A", namespace: "tools", url: "https://a.example/mcp", transport: "streamable-http", auth: "none", created_by: null, updated_by: null },
          { id: serverB, tenant_id: tenantB, name: "B", namespace: "tools", url: "https://b.example/mcp", transport: "streamable-http", auth: "oauth", created_by: null, updated_by: null },
        ])
        .execute();
      await db.insertInto("agent_tool_grants").values({ id: randomUUID(), tenant_id: tenantB, agent_slug: "bob", source: "mcp", server_id: serverB, tool: "echo", mode: "allow" }).execute();
      await db.insertInto("mcp_oauth_states").values({ state_hash: "b-state", tenant_id: tenantB, server_id: serverB, user_id: userB, expires_at: new Date(Date.now() + 60_000) }).execute();
    });
    const db = database.db;
    const seen = await withTenant(db, tenantA, async (trx) => ({
      servers: (await trx.selectFrom("mcp_servers").select("id").execute()).map((row) => row.id),
      grants: await trx.selectFrom("agent_tool_grants").select("id").execute(),
      states: await trx.selectFrom("mcp_oauth_states").select("state_hash").execute(),
    }));
    expect(seen).toEqual({ servers: [serverA], grants: [], states: [] });
    // A's grant naming B's server: the composite key (tenant, server) has no such row.
    await expect(
      withTenant(db, tenantA, (trx) => trx.insertInto("agent_tool_grants").values({ id: randomUUID(), tenant_id: tenantA, agent_slug: "ada", source: "mcp", server_id: serverB, tool: "echo", mode: "allow" }).execute()),
    ).rejects.toThrow(/foreign key/);
    await expect(
      withTenant(db, tenantA, (trx) => trx.insertInto("mcp_servers").values({ id: randomUUID(), tenant_id: tenantB, name: "X", namespace: "x", url: "https://x.example", transport: "sse", auth: "none", created_by: null, updated_by: null }).execute()),
    ).rejects.toThrow(/row-level security/);
    const removed = await withTenant(db, tenantA, (trx) => trx.deleteFrom("mcp_servers").where("id", "=", serverB).executeTakeFirst());
    expect(removed.numDeletedRows).toBe(0n);
    // Deleting a server takes its grants and pending authorisations with it.
    await withSystem(database.system, (trx) => trx.deleteFrom("mcp_servers").where("id", "=", serverB).execute());
    const left = await withSystem(database.system, async (trx) => ({
      grants: await trx.selectFrom("agent_tool_grants").select("id").where("tenant_id", "=", tenantB).execute(),
      states: await trx.selectFrom("mcp_oauth_states").select("state_hash").where("tenant_id", "=", tenantB).execute(),
    }));
    expect(left).toEqual({ grants: [], states: [] });
  });

  it("isolates heartbeats: a tenant sees, changes and creates only its own agents' heartbeats", async () => {
    await withSystem(database.system, async (db) => {
      await db
        .insertInto("agents")
        .values([
          { tenant_id: tenantA, slug: "hb-a", name: "Hb A" },
          { tenant_id: tenantB, slug: "hb-b", name: "Hb B" },
        ])
        .execute();
      await db
        .insertInto("agent_heartbeats")
        .values([
          { tenant_id: tenantA, agent_slug: "hb-a", enabled: true, next_due_at: new Date() },
          { tenant_id: tenantB, agent_slug: "hb-b", enabled: true, next_due_at: new Date() },
        ])
        .execute();
    });
    const db = database.db;
    const seen = await withTenant(db, tenantA, (trx) => trx.selectFrom("agent_heartbeats").select(["tenant_id", "agent_slug"]).execute());
    expect(seen).toEqual([{ tenant_id: tenantA, agent_slug: "hb-a" }]);
    const changed = await withTenant(db, tenantA, (trx) => trx.updateTable("agent_heartbeats").set({ enabled: false }).where("agent_slug", "=", "hb-b").executeTakeFirst());
    expect(changed.numUpdatedRows).toBe(0n);
    await expect(withTenant(db, tenantA, (trx) => trx.insertInto("agent_heartbeats").values({ tenant_id: tenantB, agent_slug: "bob" }).execute())).rejects.toThrow(/row-level security/);
    // The tick's question across organisations is the system role's alone.
    const due = await withSystem(database.system, (trx) => trx.selectFrom("agent_heartbeats").select("agent_slug").where("enabled", "=", true).orderBy("agent_slug").execute());
    expect(due.map((row) => row.agent_slug)).toEqual(["hb-a", "hb-b"]);
  });
});

/** Rows in `agents` and `users` seen by a query that names no tenant, run straight on a connection. */
const unscopedCounts = async (kysely: Kysely<DatabaseSchema>) => ({
  agents: (await kysely.selectFrom("agents").select("slug").execute()).length,
  users: (await kysely.selectFrom("users").select("id").execute()).length,
});

describe.runIf(!databaseUrl)("a connection outside every scope (PGlite)", () => {
  it("sees no rows as the app role, although the tables are full", async () => {
    const { PGlite } = await import("@electric-sql/pglite");
    const pglite = await PGlite.create("memory://");
    const kysely = new Kysely<DatabaseSchema>({ dialect: new PGliteDialect(pglite) });
    try {
      await migrateDatabase(kysely);
      await pglite.exec(`set role workforce_system;
        insert into tenants (id, name) values ('${randomUUID()}', 'T');
        insert into agents (tenant_id, slug, name) select id, 'ada', 'Ada' from tenants;
        insert into users (email, password_hash) values ('x@example.com', 'h');
        set role workforce_app;`);
      // What the platform's session is after opening: a deliberately unscoped query finds nothing.
      expect(await unscopedCounts(kysely)).toEqual({ agents: 0, users: 0 });
      await pglite.exec("set role workforce_system");
      expect(await unscopedCounts(kysely)).toEqual({ agents: 1, users: 1 });
    } finally {
      await kysely.destroy();
      await pglite.close();
    }
  });
});

describe.runIf(databaseUrl)("an application login that owns no tables (Postgres, DATABASE_MIGRATION_URL)", () => {
  const login = `workforce_test_login_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const schema = `test_login_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const loginUrl = () => {
    const url = new URL(databaseUrl!);
    url.username = login;
    url.password = "";
    return url.toString();
  };

  beforeAll(async () => {
    await adminQuery(databaseUrl!, `create role "${login}" login`);
    await adminQuery(databaseUrl!, `create schema "${schema}"`);
  });
  afterAll(async () => {
    await adminQuery(databaseUrl!, `drop schema "${schema}" cascade`);
    await adminQuery(databaseUrl!, `drop owned by "${login}"; drop role "${login}"`);
  });

  it("migrates as the owner, gives the login the platform's roles, and works only through scopes", async () => {
    const opened = await openDatabase({ databaseUrl: loginUrl(), migrationUrl: databaseUrl, schema });
    try {
      const tenantId = randomUUID();
      await withSystem(opened.system, (trx) => trx.insertInto("tenants").values({ id: tenantId, name: "T" }).execute());
      await withTenant(opened.db, tenantId, (trx) => trx.insertInto("agents").values({ tenant_id: tenantId, slug: "ada", name: "Ada" }).execute());
      expect(await withTenant(opened.db, tenantId, (trx) => trx.selectFrom("agents").select("slug").execute())).toEqual([{ slug: "ada" }]);

      const raw = new Kysely<DatabaseSchema>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: loginUrl(), max: 1, options: `-c search_path=${schema}` }) }),
      });
      try {
        const owners = await sql<{ owner: string }>`select distinct tableowner as owner from pg_tables where schemaname = ${schema}`.execute(raw);
        expect(owners.rows.map((row) => row.owner)).not.toContain(login);
        // The login inherits the app role's grants: a deliberately unscoped query finds no rows.
        expect(await unscopedCounts(raw)).toEqual({ agents: 0, users: 0 });
      } finally {
        await raw.destroy();
      }
    } finally {
      await opened.close();
    }
  });
});
