import { sql, type Kysely, type Migration } from "kysely";

/**
 * The tenant secret store (issue 14, decision 029): every value an organisation hands us for its
 * integrations (MCP headers and OAuth tokens, Composio connections, webhook secrets, model keys),
 * envelope-encrypted under the master key and bound to (tenant, name) as associated data. The
 * organisation's own transaction reads and writes its rows only; the ciphertext column never
 * leaves the platform (the store answers summaries: name, kind, hint, dates, who).
 */
export const tenantSecrets: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table tenant_secrets (
        tenant_id uuid not null references tenants(id) on delete cascade,
        name text not null check (name ~ '^[a-z0-9][a-z0-9/_.:-]{0,199}$'),
        -- The store validates kinds; a new kind needs no migration.
        kind text not null check (kind ~ '^[a-z][a-z0-9-]{0,39}$'),
        ciphertext text not null,
        hint text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        updated_by uuid references users(id) on delete set null,
        primary key (tenant_id, name)
      )`.execute(db);

    await sql`grant select, insert, update, delete on tenant_secrets to workforce_system`.execute(db);
    await sql`alter table tenant_secrets enable row level security`.execute(db);
    await sql`alter table tenant_secrets force row level security`.execute(db);
    await sql`create policy system_access on tenant_secrets to workforce_system using (true) with check (true)`.execute(db);
    await sql`grant select, insert, update, delete on tenant_secrets to workforce_app`.execute(db);
    await sql`
      create policy tenant_isolation on tenant_secrets to workforce_app
      using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop table if exists tenant_secrets`.execute(db);
  },
};
