import { sql, type Kysely, type Migration } from "kysely";

/**
 * Stream statistics shared by every platform process (instance counters with a heartbeat,
 * per-tenant open streams, recent time-to-first-token samples), per-tenant monthly token
 * budgets, and a monotonic `seq` on the audit log so it can be paged with a stable cursor.
 */
export const clusterStatsBudgetsAudit: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table stream_instances (
        instance_id text primary key,
        started_at timestamptz not null default now(),
        heartbeat_at timestamptz not null default now(),
        open_streams integer not null default 0,
        streams_started bigint not null default 0,
        events_sent bigint not null default 0,
        resumes bigint not null default 0
      )`.execute(db);
    await sql`create index stream_instances_heartbeat_idx on stream_instances (heartbeat_at)`.execute(db);
    // No foreign key to tenants: an instance may still report a tenant that is being erased.
    await sql`
      create table stream_tenant_streams (
        instance_id text not null references stream_instances(instance_id) on delete cascade,
        tenant_id uuid not null,
        open_streams integer not null,
        primary key (instance_id, tenant_id)
      )`.execute(db);
    await sql`
      create table ttft_samples (
        id bigint generated always as identity primary key,
        instance_id text not null,
        ttft_ms integer not null,
        recorded_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index ttft_samples_recorded_idx on ttft_samples (recorded_at)`.execute(db);

    await sql`
      create table tenant_budgets (
        tenant_id uuid primary key references tenants(id) on delete cascade,
        monthly_tokens bigint check (monthly_tokens is null or monthly_tokens >= 0),
        updated_by uuid references users(id) on delete set null,
        updated_at timestamptz not null default now()
      )`.execute(db);

    await sql`alter table audit_log add column seq bigint generated always as identity`.execute(db);
    await sql`create index audit_log_tenant_seq_idx on audit_log (tenant_id, seq)`.execute(db);

    // A tenant reads its own open-stream counts; only the instances (as owner) write them.
    await sql`alter table stream_tenant_streams enable row level security`.execute(db);
    await sql`grant select on stream_tenant_streams to workforce_app`.execute(db);
    await sql`create policy tenant_isolation on stream_tenant_streams using (tenant_id = app_tenant_id())`.execute(db);

    await sql`alter table tenant_budgets enable row level security`.execute(db);
    await sql`grant select, insert, update, delete on tenant_budgets to workforce_app`.execute(db);
    await sql`
      create policy tenant_isolation on tenant_budgets
      using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop index if exists audit_log_tenant_seq_idx`.execute(db);
    await sql`alter table audit_log drop column if exists seq`.execute(db);
    for (const table of ["tenant_budgets", "ttft_samples", "stream_tenant_streams", "stream_instances"]) {
      await sql`drop table if exists ${sql.table(table)}`.execute(db);
    }
  },
};
