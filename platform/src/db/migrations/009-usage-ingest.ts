import { sql, type Kysely, type Migration } from "kysely";

/**
 * Where the platform has read each tenant's usage journal up to (issue 11): a byte offset into
 * the gateway's `{tenant}/usage.jsonl`. Ingestion inserts the journal's records into usage_events
 * and advances this cursor in one transaction, so each record is counted exactly once (and a
 * record read again after a reset is ignored: usage_events is unique by tenant and run).
 */
export const usageIngest: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table usage_ingest_cursors (
        tenant_id uuid primary key references tenants(id) on delete cascade,
        journal_offset bigint not null default 0 check (journal_offset >= 0),
        updated_at timestamptz not null default now()
      )`.execute(db);
    await sql`grant select, insert, update, delete on usage_ingest_cursors to workforce_app`.execute(db);
    await sql`grant select, insert, update, delete on usage_ingest_cursors to workforce_system`.execute(db);
    await sql`alter table usage_ingest_cursors enable row level security`.execute(db);
    await sql`alter table usage_ingest_cursors force row level security`.execute(db);
    await sql`
      create policy tenant_isolation on usage_ingest_cursors
      using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())`.execute(db);
    await sql`create policy system_access on usage_ingest_cursors to workforce_system using (true) with check (true)`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists usage_ingest_cursors`.execute(db);
  },
};
