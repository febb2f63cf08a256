import { sql, type Kysely, type Migration } from "kysely";
import { secureTenantTable } from "./tenant-table-rls";

/**
 * Tool approvals and per-agent tool modes (issue 15, decision 038).
 *
 * - approvals: one row per paused tool call, keyed by the gateway's approval id. Fed by the usage
 *   journal's paused records (and the chat stream, which sees them first); decided once
 *   (`update … where status = 'pending'`); `resume_*` say whether the gateway took the decision
 *   (the run it started, or why it could not). `input` is the call's arguments, capped: longer ones
 *   are kept as the start of their JSON, with `input_truncated`. `session_key` names the session,
 *   whose owner (session_owners) decides.
 * - agent_tool_modes: allow / ask / deny per agent and workspace tool (the tools without a grant
 *   table; web, MCP and Composio tools have their mode on their grant).
 *
 * Both go with their agent and organisation (cascade).
 */
export const approvalsAndToolModes: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table approvals (
        tenant_id uuid not null references tenants(id) on delete cascade,
        id text not null check (length(id) between 1 and 200),
        agent_slug text not null,
        session_key text not null check (length(session_key) between 1 and 200),
        run_id text not null check (length(run_id) between 1 and 200),
        tool_call_id text not null check (length(tool_call_id) between 1 and 200),
        tool text not null check (length(tool) between 1 and 200),
        input jsonb not null,
        input_truncated boolean not null default false,
        status text not null default 'pending' check (status in ('pending', 'approved', 'denied', 'expired')),
        requested_at timestamptz not null,
        expires_at timestamptz not null,
        decided_at timestamptz,
        decided_by uuid references users(id) on delete set null,
        decided_by_api_key uuid references api_keys(id) on delete set null,
        reason text check (length(reason) <= 2000),
        resume_run_id text,
        resumed_at timestamptz,
        resume_error text,
        updated_at timestamptz not null,
        primary key (tenant_id, id),
        foreign key (tenant_id, agent_slug) references agents(tenant_id, slug) on delete cascade
      )`.execute(db);
    await sql`create index approvals_pending_idx on approvals (tenant_id, requested_at) where status = 'pending'`.execute(db);
    await sql`create index approvals_decided_idx on approvals (tenant_id, decided_at desc) where status <> 'pending'`.execute(db);
    await sql`create index approvals_session_idx on approvals (tenant_id, agent_slug, session_key)`.execute(db);
    await sql`
      create table agent_tool_modes (
        tenant_id uuid not null,
        agent_slug text not null,
        tool text not null check (length(tool) between 1 and 200),
        mode text not null check (mode in ('allow', 'ask', 'deny')),
        updated_by uuid references users(id) on delete set null,
        updated_at timestamptz not null,
        primary key (tenant_id, agent_slug, tool),
        foreign key (tenant_id, agent_slug) references agents(tenant_id, slug) on delete cascade
      )`.execute(db);
    for (const table of ["approvals", "agent_tool_modes"]) await secureTenantTable(db, table);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists agent_tool_modes`.execute(db);
    await sql`drop table if exists approvals`.execute(db);
  },
};
