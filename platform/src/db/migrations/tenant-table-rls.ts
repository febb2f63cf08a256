import { sql, type Kysely } from "kysely";

/**
 * Puts a new tenant table under forced row-level security (decision 009): the app role sees and
 * writes only rows of the transaction's tenant, the system role every row. For migrations from 016 on.
 */
export async function secureTenantTable(db: Kysely<unknown>, table: string): Promise<void> {
  await sql`grant select, insert, update, delete on ${sql.table(table)} to workforce_app`.execute(db);
  await sql`grant select, insert, update, delete on ${sql.table(table)} to workforce_system`.execute(db);
  await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
  await sql`alter table ${sql.table(table)} force row level security`.execute(db);
  await sql`create policy tenant_isolation on ${sql.table(table)} using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())`.execute(db);
  await sql`create policy system_access on ${sql.table(table)} to workforce_system using (true) with check (true)`.execute(db);
}
