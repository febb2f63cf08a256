import { sql, type Kysely, type Migration } from "kysely";

/**
 * Operator controls over each organisation (issue 11, decision 018):
 * - tenant_limits: the operator's per-organisation overrides of the installation's defaults
 *   (null: the default). The organisation reads its own row; only the system scope (the
 *   operator's routes) writes it.
 * - tenant_policy_pushes: the policy the gateway must hold (`version`, bumped in the transaction
 *   of every change to an input: limits, budget, suspension, a new organisation) and the newest
 *   version a gateway accepted (`pushed_version`). Rows where version > pushed_version are
 *   pushed again by every platform process's reconcile loop. An organisation's own transaction
 *   may mark itself changed (its budget) but sees no other organisation's row.
 */
export const tenantLimits: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table tenant_limits (
        tenant_id uuid primary key references tenants(id) on delete cascade,
        max_concurrent_runs integer check (max_concurrent_runs is null or max_concurrent_runs between 1 and 10000),
        max_queued_runs integer check (max_queued_runs is null or max_queued_runs between 0 and 100000),
        monthly_tokens bigint check (monthly_tokens is null or monthly_tokens >= 0),
        disk_mb bigint check (disk_mb is null or disk_mb between 0 and 100000000),
        requests_per_minute integer check (requests_per_minute is null or requests_per_minute between 1 and 1000000),
        max_streams integer check (max_streams is null or max_streams between 1 and 100000),
        updated_at timestamptz not null default now(),
        updated_by uuid references users(id) on delete set null
      )`.execute(db);
    await sql`
      create table tenant_policy_pushes (
        tenant_id uuid primary key references tenants(id) on delete cascade,
        version bigint not null,
        pushed_version bigint not null default 0,
        changed_at timestamptz not null default now(),
        pushed_at timestamptz,
        last_error text
      )`.execute(db);
    await sql`create index tenant_policy_pushes_due_idx on tenant_policy_pushes (changed_at) where version > pushed_version`.execute(db);
    // Every organisation that exists now is pushed once by the first platform that starts.
    await sql`
      insert into tenant_policy_pushes (tenant_id, version)
      select id, (extract(epoch from clock_timestamp()) * 1000)::bigint from tenants`.execute(db);

    for (const table of ["tenant_limits", "tenant_policy_pushes"]) {
      await sql`grant select, insert, update, delete on ${sql.table(table)} to workforce_system`.execute(db);
      await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
      await sql`alter table ${sql.table(table)} force row level security`.execute(db);
      await sql`create policy system_access on ${sql.table(table)} to workforce_system using (true) with check (true)`.execute(db);
    }
    // Read-only for the organisation: its plan is the operator's to change.
    await sql`grant select on tenant_limits to workforce_app`.execute(db);
    await sql`create policy tenant_isolation on tenant_limits for select to workforce_app using (tenant_id = app_tenant_id())`.execute(db);
    // Its own budget change marks its own policy for a push; nothing else.
    await sql`grant select, insert, update on tenant_policy_pushes to workforce_app`.execute(db);
    await sql`
      create policy tenant_isolation on tenant_policy_pushes to workforce_app
      using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists tenant_policy_pushes`.execute(db);
    await sql`drop table if exists tenant_limits`.execute(db);
  },
};
