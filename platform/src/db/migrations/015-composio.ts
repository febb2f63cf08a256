import { sql, type Kysely, type Migration } from "kysely";

/**
 * Composio (issue 14): an organisation's connected apps and which of their tools each agent may use.
 *
 * - composio_connections: one connection per toolkit and organisation; `connected_account_id` is
 *   Composio's id of the account (not a secret: Composio runs it only for our tenant id as its user
 *   id, with the operator's key). Composio keeps the app's tokens; none of them is stored here.
 *   While the hosted auth flow is under way, `state_hash` (sha256 of the callback's single-use
 *   state) and `state_expires_at` bind the callback to this organisation and the member who started it.
 * - composio_agent_tools: per agent, the toolkits it may use (all their tools, or the named ones)
 *   and how (allow / ask). They name toolkits, never connections: a run takes the organisation's own
 *   active connection of the toolkit, so no grant can point at another organisation's account.
 */
export const composio: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table composio_connections (
        id uuid primary key default gen_random_uuid(),
        tenant_id uuid not null references tenants(id) on delete cascade,
        toolkit text not null check (toolkit ~ '^[a-z0-9][a-z0-9_-]{0,99}$'),
        connected_account_id text not null check (length(connected_account_id) between 1 and 200),
        status text not null check (status in ('pending', 'active', 'failed', 'expired', 'inactive')),
        state_hash text,
        state_expires_at timestamptz,
        created_by uuid references users(id) on delete set null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        unique (tenant_id, toolkit),
        unique (tenant_id, connected_account_id)
      )`.execute(db);
    await sql`create unique index composio_connections_state_idx on composio_connections (state_hash) where state_hash is not null`.execute(db);
    await sql`
      create table composio_agent_tools (
        tenant_id uuid not null,
        agent_slug text not null,
        toolkit text not null check (toolkit ~ '^[a-z0-9][a-z0-9_-]{0,99}$'),
        tools text[],
        mode text not null check (mode in ('allow', 'ask')),
        updated_by uuid references users(id) on delete set null,
        updated_at timestamptz not null default now(),
        primary key (tenant_id, agent_slug, toolkit),
        foreign key (tenant_id, agent_slug) references agents(tenant_id, slug) on delete cascade
      )`.execute(db);
    for (const table of ["composio_connections", "composio_agent_tools"]) {
      await sql`grant select, insert, update, delete on ${sql.table(table)} to workforce_app`.execute(db);
      await sql`grant select, insert, update, delete on ${sql.table(table)} to workforce_system`.execute(db);
      await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
      await sql`alter table ${sql.table(table)} force row level security`.execute(db);
      await sql`create policy tenant_isolation on ${sql.table(table)} using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())`.execute(db);
      await sql`create policy system_access on ${sql.table(table)} to workforce_system using (true) with check (true)`.execute(db);
    }
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists composio_agent_tools`.execute(db);
    await sql`drop table if exists composio_connections`.execute(db);
  },
};
