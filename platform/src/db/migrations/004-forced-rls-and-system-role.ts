import { sql, type Kysely, type Migration } from "kysely";

/** The role cross-tenant operations switch to (sign-in, creating organisations, stream statistics). */
export const SYSTEM_ROLE = "workforce_system";

/**
 * The platform's tables as of this migration: all get FORCE ROW LEVEL SECURITY and a policy for the
 * system role. Frozen: a later migration that adds a table gives it the same itself.
 */
const TABLES = [
  "users",
  "refresh_tokens",
  "tenants",
  "memberships",
  "agents",
  "settings",
  "invitations",
  "api_keys",
  "usage_events",
  "audit_log",
  "sign_in_failures",
  "stream_instances",
  "stream_tenant_streams",
  "ttft_samples",
  "tenant_budgets",
] as const;

/**
 * Row-level security that nobody skips by accident (decision 009):
 * - every table FORCEs row-level security, so even the owner (the migrating role) is filtered;
 * - tables that had none (refresh tokens, settings, sign-in failures, stream statistics) get it;
 * - a second role, `workforce_system`, may see every row of every table through its own policy.
 *   Only the code handed the system scope switches to it (`withSystem`), for the few operations
 *   that are cross-tenant by nature. The app role, `workforce_app`, keeps its tenant policies;
 *   it is a member of `workforce_system` (to switch) without inheriting from it.
 * A connection that is in neither scope (no role switched, no tenant set) sees no rows.
 */
export const forcedRlsAndSystemRole: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      do $$
      begin
        if not exists (select 1 from pg_roles where rolname = 'workforce_system') then
          begin
            create role workforce_system nologin nosuperuser nobypassrls noinherit;
          exception when duplicate_object or unique_violation then null;
          end;
        end if;
        -- Whoever may become workforce_app may also switch to workforce_system (SET ROLE follows
        -- membership), but inherits nothing from it: workforce_app is NOINHERIT, so neither the
        -- app role nor a login that inherits the app role's grants gets the system policies.
        grant workforce_system to workforce_app;
        execute format('grant usage on schema %I to workforce_system', current_schema());
      end $$`.execute(db);
    for (const table of TABLES) {
      await sql`grant select, insert, update, delete on ${sql.table(table)} to workforce_system`.execute(db);
      await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
      await sql`alter table ${sql.table(table)} force row level security`.execute(db);
      await sql`create policy system_access on ${sql.table(table)} to workforce_system using (true) with check (true)`.execute(db);
    }
  },
  async down(db: Kysely<unknown>) {
    for (const table of TABLES) {
      await sql`drop policy if exists system_access on ${sql.table(table)}`.execute(db);
      await sql`alter table ${sql.table(table)} no force row level security`.execute(db);
      await sql`revoke all on ${sql.table(table)} from workforce_system`.execute(db);
    }
  },
};
