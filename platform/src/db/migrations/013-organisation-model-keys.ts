import { sql, type Kysely, type Migration } from "kysely";

/**
 * An organisation's own model keys (issue 14, decision 031). The key itself is a tenant secret
 * (`model-key/{provider}`, envelope-encrypted in tenant_secrets); this row holds what is not
 * secret beside it: the base URL and who set it. Usage rows say whose key a run used.
 */
export const organisationModelKeys: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table model_keys (
        tenant_id uuid not null references tenants(id) on delete cascade,
        provider text not null check (provider in ('anthropic', 'openai-compatible')),
        base_url text check (base_url is null or length(base_url) <= 2000),
        updated_at timestamptz not null default now(),
        updated_by uuid references users(id) on delete set null,
        primary key (tenant_id, provider)
      )`.execute(db);
    await sql`grant select, insert, update, delete on model_keys to workforce_app`.execute(db);
    await sql`grant select, insert, update, delete on model_keys to workforce_system`.execute(db);
    await sql`alter table model_keys enable row level security`.execute(db);
    await sql`alter table model_keys force row level security`.execute(db);
    await sql`
      create policy tenant_isolation on model_keys
      using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())`.execute(db);
    await sql`create policy system_access on model_keys to workforce_system using (true) with check (true)`.execute(db);

    // Null: written before issue 14 (the operator's key) or by the platform's own recorder before the journal said.
    await sql`alter table usage_events add column key_source text check (key_source in ('platform', 'organisation'))`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`alter table usage_events drop column if exists key_source`.execute(db);
    await sql`drop table if exists model_keys`.execute(db);
  },
};
