import { sql, type Kysely, type Migration } from "kysely";
import { secureTenantTable } from "./tenant-table-rls";

/**
 * Heartbeats (issue 15): per agent, whether and how often the platform wakes it to follow its
 * HEARTBEAT.md (platform/src/jobs/heartbeats.ts). The file itself lives in the agent's workspace on
 * the gateway; this row holds the schedule, on whose behalf it runs (`enabled_by`), when it is due
 * next, and what came of it (counters, the last outcome, the last alert).
 *
 * - `id` names the heartbeat in its runs' trigger (`{ kind: "heartbeat", id }`), so outcomes that
 *   come back through the usage journal find their row, and a re-created agent's old runs do not.
 * - `active_start` / `active_end` (HH:MM, end may be 24:00 and before start: wraps midnight) in
 *   `time_zone` (IANA, checked with Intl by the API); both null: all day.
 * - `last_due_at`: the due time of the last firing recorded, so a firing job run twice counts once;
 *   `last_outcome_run_id` likewise for outcomes read from the journal.
 */
export const agentHeartbeats: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table agent_heartbeats (
        id uuid not null unique default gen_random_uuid(),
        tenant_id uuid not null references tenants(id) on delete cascade,
        agent_slug text not null,
        enabled boolean not null default false,
        every_minutes integer not null default 30 check (every_minutes between 5 and 1440),
        active_start text check (active_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        active_end text check (active_end ~ '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'),
        time_zone text not null default 'UTC' check (length(time_zone) between 1 and 100),
        session_key text not null default 'heartbeat' check (session_key ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$'),
        enabled_by uuid references users(id) on delete set null,
        next_due_at timestamptz,
        ok_count integer not null default 0,
        alert_count integer not null default 0,
        skipped_count integer not null default 0,
        failed_count integer not null default 0,
        refused_count integer not null default 0,
        last_outcome text check (last_outcome in ('ok', 'alert', 'skipped', 'failed', 'refused')),
        last_at timestamptz,
        last_run_id text,
        last_error_code text,
        last_error_message text,
        last_due_at timestamptz,
        last_outcome_run_id text,
        last_alert_text text,
        last_alert_at timestamptz,
        last_alert_run_id text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        updated_by uuid references users(id) on delete set null,
        primary key (tenant_id, agent_slug),
        foreign key (tenant_id, agent_slug) references agents(tenant_id, slug) on delete cascade,
        check ((active_start is null) = (active_end is null))
      )`.execute(db);
    // The tick's question: which enabled heartbeats are due (across organisations).
    await sql`create index agent_heartbeats_due_idx on agent_heartbeats (next_due_at) where enabled`.execute(db);
    await secureTenantTable(db, "agent_heartbeats");
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists agent_heartbeats`.execute(db);
  },
};
