import { sql, type Kysely, type Migration } from "kysely";

/** Users, refresh tokens, tenants, memberships, the platform's agent records and settings. */
export const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table users (
        id uuid primary key default gen_random_uuid(),
        email text not null unique check (email = lower(email)),
        password_hash text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        last_sign_in_at timestamptz
      )`.execute(db);
    await sql`
      create table refresh_tokens (
        token_hash text primary key,
        user_id uuid not null references users(id) on delete cascade,
        session_id uuid not null,
        parent_hash text,
        revoked boolean not null default false,
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index refresh_tokens_session_idx on refresh_tokens (session_id)`.execute(db);
    await sql`create index refresh_tokens_user_idx on refresh_tokens (user_id)`.execute(db);
    await sql`
      create table tenants (
        id uuid primary key default gen_random_uuid(),
        name text not null,
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`
      create table memberships (
        tenant_id uuid not null references tenants(id) on delete cascade,
        user_id uuid not null references users(id) on delete cascade,
        role text not null check (role in ('owner', 'admin', 'member')),
        created_at timestamptz not null default now(),
        primary key (tenant_id, user_id)
      )`.execute(db);
    await sql`create index memberships_user_idx on memberships (user_id)`.execute(db);
    await sql`
      create table agents (
        tenant_id uuid not null references tenants(id) on delete cascade,
        slug text not null,
        name text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        primary key (tenant_id, slug)
      )`.execute(db);
    await sql`
      create table settings (
        key text primary key,
        value text not null
      )`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    for (const table of ["agents", "memberships", "tenants", "refresh_tokens", "users", "settings"]) {
      await sql`drop table if exists ${sql.table(table)}`.execute(db);
    }
  },
};
