import { sql, type Kysely, type Migration } from "kysely";
import { secureTenantTable } from "./tenant-table-rls";

/**
 * Schedules (issue 15, decision 037): an agent is sent a message on a cron expression in a time
 * zone, once (`at`), or every N seconds (at least a minute).
 *
 * - schedules: one per agent and purpose; `next_fire_at` is when it is due next (null: disabled,
 *   or an `at` that has fired). `created_by` is the member on whose behalf its runs go. Deleting
 *   the agent's row deletes its schedules.
 * - schedule_firings: one per firing time, unique (schedule_id, scheduled_for), so a time fires
 *   once however many platform processes tick; the run it started and its outcome. A catch-up
 *   entry (`missed_count` > 0) stands for the firing times from `missed_from` to `scheduled_for`.
 */
export const schedules: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table schedules (
        id uuid primary key default gen_random_uuid(),
        tenant_id uuid not null references tenants(id) on delete cascade,
        agent_slug text not null,
        name text not null check (length(name) between 1 and 100),
        kind text not null check (kind in ('cron', 'at', 'every')),
        cron text check (length(cron) between 1 and 120),
        at timestamptz,
        every_seconds integer check (every_seconds between 60 and 31536000),
        timezone text not null check (length(timezone) between 1 and 64),
        message text not null check (length(message) between 1 and 20000),
        session_mode text not null check (session_mode in ('fixed', 'new')),
        session_key text check (length(session_key) between 1 and 128),
        catch_up text not null default 'skip' check (catch_up in ('skip', 'run_once')),
        enabled boolean not null default true,
        next_fire_at timestamptz,
        created_by uuid references users(id) on delete set null,
        updated_by uuid references users(id) on delete set null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        check ((kind = 'cron') = (cron is not null)),
        check ((kind = 'at') = (at is not null)),
        check ((kind = 'every') = (every_seconds is not null)),
        check ((session_mode = 'fixed') = (session_key is not null)),
        unique (tenant_id, id),
        foreign key (tenant_id, agent_slug) references agents(tenant_id, slug) on delete cascade
      )`.execute(db);
    await sql`create index schedules_due_idx on schedules (next_fire_at) where enabled and next_fire_at is not null`.execute(db);
    await sql`create index schedules_agent_idx on schedules (tenant_id, agent_slug, created_at)`.execute(db);
    await sql`
      create table schedule_firings (
        id uuid primary key default gen_random_uuid(),
        tenant_id uuid not null references tenants(id) on delete cascade,
        schedule_id uuid not null,
        scheduled_for timestamptz not null,
        status text not null default 'pending' check (status in ('pending', 'started', 'refused', 'skipped', 'completed', 'failed')),
        manual boolean not null default false,
        requested_by uuid references users(id) on delete set null,
        missed_count integer not null default 0 check (missed_count >= 0),
        missed_from timestamptz,
        session_key text,
        run_id text,
        error_code text,
        error_message text check (length(error_message) <= 2000),
        fired_at timestamptz,
        ended_at timestamptz,
        input_tokens integer,
        output_tokens integer,
        created_at timestamptz not null default now(),
        unique (schedule_id, scheduled_for),
        -- With the organisation in the key, a firing can only ever point at its own organisation's schedule.
        foreign key (tenant_id, schedule_id) references schedules(tenant_id, id) on delete cascade
      )`.execute(db);
    await sql`create index schedule_firings_history_idx on schedule_firings (tenant_id, schedule_id, scheduled_for desc)`.execute(db);
    for (const table of ["schedules", "schedule_firings"]) await secureTenantTable(db, table);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists schedule_firings`.execute(db);
    await sql`drop table if exists schedules`.execute(db);
  },
};
