import { sql, type Kysely, type Migration } from "kysely";

/** The non-owner, non-superuser role every tenant-scoped transaction switches to. */
export const APP_ROLE = "workforce_app";

const TENANT_TABLES = ["agents", "memberships", "invitations", "api_keys", "usage_events", "audit_log"] as const;

/**
 * Invitations, API keys, usage events, the audit log, sign-in failures; then row-level security
 * on every tenant table, enforced for `workforce_app` (no BYPASSRLS, not the owner).
 */
export const tenancyAndRls: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table invitations (
        id uuid primary key default gen_random_uuid(),
        tenant_id uuid not null references tenants(id) on delete cascade,
        email text not null check (email = lower(email)),
        role text not null check (role in ('owner', 'admin', 'member')),
        token_hash text not null unique,
        invited_by uuid references users(id) on delete set null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        accepted_at timestamptz,
        revoked_at timestamptz
      )`.execute(db);
    await sql`create index invitations_tenant_idx on invitations (tenant_id)`.execute(db);
    await sql`
      create table api_keys (
        id uuid primary key default gen_random_uuid(),
        tenant_id uuid not null references tenants(id) on delete cascade,
        name text not null,
        prefix text not null,
        key_hash text not null unique,
        scopes text[] not null,
        created_by uuid references users(id) on delete set null,
        created_at timestamptz not null default now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`.execute(db);
    await sql`create index api_keys_tenant_idx on api_keys (tenant_id)`.execute(db);
    await sql`
      create table usage_events (
        id uuid primary key default gen_random_uuid(),
        tenant_id uuid not null references tenants(id) on delete cascade,
        user_id uuid references users(id) on delete set null,
        api_key_id uuid references api_keys(id) on delete set null,
        agent_slug text not null,
        run_id text not null,
        status text not null,
        input_tokens integer not null,
        output_tokens integer not null,
        created_at timestamptz not null default now(),
        unique (tenant_id, run_id)
      )`.execute(db);
    await sql`create index usage_events_tenant_time_idx on usage_events (tenant_id, created_at)`.execute(db);
    await sql`
      create table audit_log (
        id uuid primary key default gen_random_uuid(),
        tenant_id uuid not null references tenants(id) on delete cascade,
        actor_user_id uuid references users(id) on delete set null,
        actor_api_key_id uuid references api_keys(id) on delete set null,
        action text not null,
        target text not null,
        details jsonb not null default '{}'::jsonb,
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index audit_log_tenant_time_idx on audit_log (tenant_id, created_at)`.execute(db);
    await sql`
      create table sign_in_failures (
        id uuid primary key default gen_random_uuid(),
        email text not null,
        failed_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index sign_in_failures_email_idx on sign_in_failures (email, failed_at)`.execute(db);

    // Roles are cluster-wide: create once, tolerate a concurrent creator (parallel test schemas).
    await sql`
      do $$
      begin
        if not exists (select 1 from pg_roles where rolname = 'workforce_app') then
          begin
            create role workforce_app nologin nosuperuser nobypassrls noinherit;
          exception when duplicate_object or unique_violation then null;
          end;
        end if;
        if not (select rolsuper from pg_roles where rolname = current_user) then
          execute format('grant workforce_app to %I', current_user);
        end if;
        execute format('grant usage on schema %I to workforce_app', current_schema());
      end $$`.execute(db);

    await sql`
      create function app_tenant_id() returns uuid language sql stable as
      $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$`.execute(db);
    await sql`
      create function app_user_id() returns uuid language sql stable as
      $$ select nullif(current_setting('app.user_id', true), '')::uuid $$`.execute(db);

    for (const table of [...TENANT_TABLES, "tenants", "users"]) {
      await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
    }
    for (const table of ["agents", "invitations", "api_keys", "usage_events", "audit_log"]) {
      await sql`grant select, insert, update, delete on ${sql.table(table)} to workforce_app`.execute(db);
      await sql`
        create policy tenant_isolation on ${sql.table(table)}
        using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())`.execute(db);
    }
    // A user sees their own memberships in any tenant (to choose one); everything else is per tenant.
    await sql`grant select, insert, update, delete on memberships to workforce_app`.execute(db);
    await sql`
      create policy tenant_isolation on memberships
      using (tenant_id = app_tenant_id() or user_id = app_user_id()) with check (tenant_id = app_tenant_id())`.execute(db);
    await sql`grant select, update on tenants to workforce_app`.execute(db);
    await sql`
      create policy tenant_isolation on tenants
      using (id = app_tenant_id() or exists (select 1 from memberships m where m.tenant_id = tenants.id and m.user_id = app_user_id()))
      with check (id = app_tenant_id())`.execute(db);
    // Fellow members' emails, never password hashes.
    await sql`grant select (id, email, created_at) on users to workforce_app`.execute(db);
    await sql`
      create policy member_visibility on users
      using (id = app_user_id() or exists (select 1 from memberships m where m.user_id = users.id and m.tenant_id = app_tenant_id()))`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    for (const table of ["users", "tenants", "memberships", "agents"]) {
      await sql`drop policy if exists tenant_isolation on ${sql.table(table)}`.execute(db);
      await sql`drop policy if exists member_visibility on ${sql.table(table)}`.execute(db);
      await sql`alter table ${sql.table(table)} disable row level security`.execute(db);
    }
    for (const table of ["sign_in_failures", "audit_log", "usage_events", "api_keys", "invitations"]) {
      await sql`drop table if exists ${sql.table(table)}`.execute(db);
    }
    await sql`drop function if exists app_tenant_id()`.execute(db);
    await sql`drop function if exists app_user_id()`.execute(db);
  },
};
