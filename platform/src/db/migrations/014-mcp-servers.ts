import { sql, type Kysely, type Migration } from "kysely";

/**
 * MCP servers and per-agent tool grants (issue 14):
 * - mcp_servers: an organisation's remote MCP servers. Header values and OAuth tokens are not
 *   here: they are tenant secrets (`mcp/{id}/headers`, `mcp/{id}/oauth`). `tools` caches the
 *   last `tools/list` answer so the tools panel and the runs need no round trip.
 * - agent_tool_grants: which web and MCP tools an agent may use, and whether a call needs a
 *   member's approval (`ask`). A server's grants go with it.
 * - mcp_oauth_states: pending OAuth authorisations (random state, single use, ten minutes),
 *   bound to the organisation, the server and the user who started it. The callback arrives
 *   without our credentials, so it finds the state through the system scope by its hash; the
 *   PKCE verifier is a tenant secret, never a column.
 */
export const mcpServers: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table mcp_servers (
        id uuid primary key,
        tenant_id uuid not null references tenants(id) on delete cascade,
        name text not null,
        namespace text not null,
        url text not null,
        transport text not null check (transport in ('streamable-http', 'sse')),
        auth text not null check (auth in ('none', 'headers', 'oauth')),
        header_hints jsonb not null default '[]'::jsonb,
        status text not null default 'unchecked' check (status in ('unchecked', 'ok', 'needs_auth', 'error')),
        last_error text,
        tools jsonb not null default '[]'::jsonb,
        tools_refreshed_at timestamptz,
        created_at timestamptz not null default now(),
        created_by uuid references users(id) on delete set null,
        updated_at timestamptz not null default now(),
        updated_by uuid references users(id) on delete set null,
        unique (tenant_id, namespace),
        unique (tenant_id, id)
      )`.execute(db);
    await sql`
      create table agent_tool_grants (
        id uuid primary key,
        tenant_id uuid not null references tenants(id) on delete cascade,
        agent_slug text not null,
        source text not null check (source in ('web', 'mcp')),
        server_id uuid,
        tool text not null,
        mode text not null check (mode in ('allow', 'ask')),
        created_at timestamptz not null default now(),
        foreign key (tenant_id, server_id) references mcp_servers (tenant_id, id) on delete cascade,
        check ((source = 'web') = (server_id is null))
      )`.execute(db);
    // One grant per tool: nulls (web tools) compare equal through coalesce.
    await sql`
      create unique index agent_tool_grants_tool_idx
      on agent_tool_grants (tenant_id, agent_slug, source, coalesce(server_id, '00000000-0000-0000-0000-000000000000'::uuid), tool)`.execute(db);
    await sql`create index agent_tool_grants_server_idx on agent_tool_grants (server_id)`.execute(db);
    await sql`
      create table mcp_oauth_states (
        state_hash text primary key,
        tenant_id uuid not null references tenants(id) on delete cascade,
        server_id uuid not null,
        user_id uuid not null references users(id) on delete cascade,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        foreign key (tenant_id, server_id) references mcp_servers (tenant_id, id) on delete cascade
      )`.execute(db);

    for (const table of ["mcp_servers", "agent_tool_grants", "mcp_oauth_states"]) {
      await sql`grant select, insert, update, delete on ${sql.table(table)} to workforce_app`.execute(db);
      await sql`grant select, insert, update, delete on ${sql.table(table)} to workforce_system`.execute(db);
      await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
      await sql`alter table ${sql.table(table)} force row level security`.execute(db);
      await sql`
        create policy tenant_isolation on ${sql.table(table)} to workforce_app
        using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())`.execute(db);
      await sql`create policy system_access on ${sql.table(table)} to workforce_system using (true) with check (true)`.execute(db);
    }
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists mcp_oauth_states`.execute(db);
    await sql`drop table if exists agent_tool_grants`.execute(db);
    await sql`drop table if exists mcp_servers`.execute(db);
  },
};
