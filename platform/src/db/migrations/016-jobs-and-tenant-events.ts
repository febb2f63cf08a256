import { sql, type Kysely, type Migration } from "kysely";
import { secureTenantTable } from "./tenant-table-rls";

/**
 * Work the platform does on its own (issue 15, decision 035), and what organisations hear about.
 *
 * - jobs: a durable queue every platform process works from (`FOR UPDATE SKIP LOCKED`, leases,
 *   backoff; platform/src/jobs/job-queue.ts). `tenant_id` null: the platform's own periodic work.
 *   `key` dedupes: one queued-or-finished job per (kind, key) until finished jobs are pruned.
 * - tenant_events: the outbox of events an organisation may subscribe to (webhooks, live
 *   notifications), written in the same transaction as the fact. `dedupe_key` makes a second
 *   recording of the same fact a no-op.
 */
export const jobsAndTenantEvents: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table jobs (
        id uuid primary key default gen_random_uuid(),
        tenant_id uuid references tenants(id) on delete cascade,
        kind text not null check (kind ~ '^[a-z][a-z0-9_.-]{0,63}$'),
        key text check (length(key) between 1 and 300),
        payload jsonb not null default '{}',
        status text not null default 'queued' check (status in ('queued', 'running', 'done', 'dead')),
        run_at timestamptz not null,
        attempts integer not null default 0,
        max_attempts integer not null default 10 check (max_attempts between 1 and 1000),
        locked_by text,
        locked_until timestamptz,
        last_error text,
        created_at timestamptz not null default now(),
        finished_at timestamptz
      )`.execute(db);
    await sql`create unique index jobs_kind_key_idx on jobs (kind, key) where key is not null`.execute(db);
    await sql`create index jobs_due_idx on jobs (run_at) where status in ('queued', 'running')`.execute(db);
    await sql`create index jobs_tenant_idx on jobs (tenant_id, kind)`.execute(db);
    await sql`
      create table tenant_events (
        id uuid primary key default gen_random_uuid(),
        seq bigserial not null,
        tenant_id uuid not null references tenants(id) on delete cascade,
        type text not null check (type ~ '^[a-z]+\.[a-z_]+$'),
        dedupe_key text check (length(dedupe_key) between 1 and 300),
        data jsonb not null default '{}',
        occurred_at timestamptz not null,
        unique (tenant_id, dedupe_key)
      )`.execute(db);
    await sql`create index tenant_events_tenant_seq_idx on tenant_events (tenant_id, seq)`.execute(db);
    for (const table of ["jobs", "tenant_events"]) await secureTenantTable(db, table);
    await sql`grant usage on sequence tenant_events_seq_seq to workforce_app, workforce_system`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists tenant_events`.execute(db);
    await sql`drop table if exists jobs`.execute(db);
  },
};
