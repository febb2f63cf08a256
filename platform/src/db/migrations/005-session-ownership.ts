import { sql, type Kysely, type Migration } from "kysely";

/**
 * Who started each session (decision 010): a user or an API key. The session itself lives in the
 * gateway; this row is the platform's record of whose it is. A removed member's or a revoked
 * key's rows stay (users and keys are never deleted, only memberships and `revoked_at`), so admins
 * still see whose a session was. Both owner columns null means nobody's: only admins may touch it.
 */
export const sessionOwnership: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table session_owners (
        tenant_id uuid not null references tenants(id) on delete cascade,
        agent_slug text not null,
        session_key text not null,
        user_id uuid references users(id) on delete set null,
        api_key_id uuid references api_keys(id) on delete set null,
        created_at timestamptz not null default now(),
        primary key (tenant_id, agent_slug, session_key),
        check (user_id is null or api_key_id is null)
      )`.execute(db);
    await sql`create index session_owners_user_idx on session_owners (tenant_id, user_id)`.execute(db);
    await sql`grant select, insert, update, delete on session_owners to workforce_app`.execute(db);
    await sql`grant select, insert, update, delete on session_owners to workforce_system`.execute(db);
    await sql`alter table session_owners enable row level security`.execute(db);
    await sql`alter table session_owners force row level security`.execute(db);
    await sql`
      create policy tenant_isolation on session_owners
      using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())`.execute(db);
    await sql`create policy system_access on session_owners to workforce_system using (true) with check (true)`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists session_owners`.execute(db);
  },
};
