import { sql, type Kysely, type Migration } from "kysely";
import { secureTenantTable } from "./tenant-table-rls";

/**
 * Outbound webhooks (issue 15, Standard Webhooks):
 * - webhook_endpoints: where an organisation wants its events POSTed, which types (`event_types`
 *   null: all), and whether it is on. The signing secret is not here: it is a tenant secret
 *   (`webhook/{id}/signing`, and `webhook/{id}/previous` while a rotation overlaps), and
 *   `secret_hint` is what answers show of it. `consecutive_failures` and `failing_since` count the
 *   failed attempts since the last success, which disable the endpoint when they go on too long.
 * - webhook_deliveries: one per endpoint and event (`unique (endpoint_id, event_id)`: fanning an
 *   event out twice delivers it once), with the body exactly as it is signed and sent, and the
 *   outcome of its last attempt. `event_id` is the `webhook-id` receivers dedupe on; it names a
 *   tenant_events row, or nothing for a test event.
 */
export const webhooks: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table webhook_endpoints (
        id uuid primary key default gen_random_uuid(),
        tenant_id uuid not null references tenants(id) on delete cascade,
        url text not null check (length(url) between 1 and 2000),
        description text not null default '' check (length(description) <= 200),
        event_types text[],
        enabled boolean not null default true,
        disabled_reason text,
        disabled_at timestamptz,
        consecutive_failures integer not null default 0,
        failing_since timestamptz,
        secret_hint text not null,
        previous_secret_expires_at timestamptz,
        created_by uuid references users(id) on delete set null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        unique (tenant_id, id)
      )`.execute(db);
    await sql`create index webhook_endpoints_tenant_idx on webhook_endpoints (tenant_id, created_at)`.execute(db);
    await sql`
      create table webhook_deliveries (
        id uuid primary key default gen_random_uuid(),
        tenant_id uuid not null references tenants(id) on delete cascade,
        endpoint_id uuid not null,
        event_id uuid not null,
        event_type text not null check (event_type ~ '^[a-z]+\\.[a-z_]+$'),
        payload text not null,
        status text not null default 'pending' check (status in ('pending', 'failed', 'succeeded', 'dead')),
        attempts integer not null default 0,
        last_status_code integer,
        last_error text,
        response_excerpt text,
        last_attempt_at timestamptz,
        next_attempt_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        unique (endpoint_id, event_id),
        foreign key (tenant_id, endpoint_id) references webhook_endpoints (tenant_id, id) on delete cascade
      )`.execute(db);
    await sql`create index webhook_deliveries_log_idx on webhook_deliveries (endpoint_id, created_at desc, id desc)`.execute(db);
    await sql`create index webhook_deliveries_created_idx on webhook_deliveries (created_at)`.execute(db);
    for (const table of ["webhook_endpoints", "webhook_deliveries"]) await secureTenantTable(db, table);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists webhook_deliveries`.execute(db);
    await sql`drop table if exists webhook_endpoints`.execute(db);
  },
};
