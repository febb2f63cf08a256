import { sql, type Kysely, type Migration } from "kysely";

const NEW_TABLES = ["auth_sessions", "one_time_tokens"] as const;

/**
 * What opening the platform to strangers needs (issue 10):
 * - users: a confirmed email (`email_confirmed_at`; accounts made before confirmation existed
 *   count as confirmed) and the installation's operator (`is_operator`; the oldest user).
 * - auth_sessions: one row per sign-in, so signing out ends the session for access tokens too,
 *   and refresh tokens have an idle and an absolute lifetime. Existing refresh-token families
 *   become sessions; refresh tokens now belong to a session (cascade).
 * - one_time_tokens: email confirmation, password recovery, email change and reauthentication,
 *   each as a hashed link token and a hashed 6-digit code, single use, with an attempt count.
 * - tenants: suspension by the operator. The app role may now update only a tenant's name.
 */
export const accountsSessionsOperator: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`alter table users add column email_confirmed_at timestamptz`.execute(db);
    await sql`alter table users add column is_operator boolean not null default false`.execute(db);
    await sql`update users set email_confirmed_at = created_at`.execute(db);
    await sql`update users set is_operator = true where id = (select id from users order by created_at, id limit 1)`.execute(db);

    await sql`
      create table auth_sessions (
        id uuid primary key default gen_random_uuid(),
        user_id uuid not null references users(id) on delete cascade,
        created_at timestamptz not null default now(),
        refreshed_at timestamptz not null default now(),
        revoked_at timestamptz,
        amr text not null default 'password' check (amr in ('password', 'recovery', 'otp'))
      )`.execute(db);
    await sql`create index auth_sessions_user_idx on auth_sessions (user_id)`.execute(db);
    await sql`create index auth_sessions_refreshed_idx on auth_sessions (refreshed_at)`.execute(db);
    await sql`
      insert into auth_sessions (id, user_id, created_at, refreshed_at, revoked_at)
      select session_id, min(user_id::text)::uuid, min(created_at), max(created_at), case when bool_and(revoked) then now() end
      from refresh_tokens group by session_id`.execute(db);
    await sql`
      alter table refresh_tokens add constraint refresh_tokens_session_fk
      foreign key (session_id) references auth_sessions(id) on delete cascade`.execute(db);

    await sql`
      create table one_time_tokens (
        id uuid primary key default gen_random_uuid(),
        user_id uuid not null references users(id) on delete cascade,
        kind text not null check (kind in ('confirm-signup', 'recovery', 'email-change', 'reauthentication')),
        token_hash text not null unique,
        code_hash text not null,
        email text not null check (email = lower(email)),
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        used_at timestamptz,
        attempts integer not null default 0
      )`.execute(db);
    await sql`create index one_time_tokens_user_kind_idx on one_time_tokens (user_id, kind)`.execute(db);
    await sql`create index one_time_tokens_email_idx on one_time_tokens (email, kind)`.execute(db);
    await sql`create index one_time_tokens_expires_idx on one_time_tokens (expires_at)`.execute(db);

    // A user reads their own flags (RLS shows them their own row and their colleagues' emails).
    await sql`grant select (email_confirmed_at, is_operator) on users to workforce_app`.execute(db);

    await sql`alter table tenants add column suspended_at timestamptz`.execute(db);
    await sql`alter table tenants add column suspended_reason text`.execute(db);
    // Routes rename a tenant; nothing else about it is theirs to change (suspension least of all).
    await sql`revoke update on tenants from workforce_app`.execute(db);
    await sql`grant update (name) on tenants to workforce_app`.execute(db);

    for (const table of NEW_TABLES) {
      await sql`grant select, insert, update, delete on ${sql.table(table)} to workforce_system`.execute(db);
      await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
      await sql`alter table ${sql.table(table)} force row level security`.execute(db);
      await sql`create policy system_access on ${sql.table(table)} to workforce_system using (true) with check (true)`.execute(db);
    }
  },
  async down(db: Kysely<unknown>) {
    await sql`grant update on tenants to workforce_app`.execute(db);
    await sql`revoke select (email_confirmed_at, is_operator) on users from workforce_app`.execute(db);
    await sql`alter table tenants drop column if exists suspended_reason`.execute(db);
    await sql`alter table tenants drop column if exists suspended_at`.execute(db);
    await sql`drop table if exists one_time_tokens`.execute(db);
    await sql`alter table refresh_tokens drop constraint if exists refresh_tokens_session_fk`.execute(db);
    await sql`drop table if exists auth_sessions`.execute(db);
    await sql`alter table users drop column if exists is_operator`.execute(db);
    await sql`alter table users drop column if exists email_confirmed_at`.execute(db);
  },
};
