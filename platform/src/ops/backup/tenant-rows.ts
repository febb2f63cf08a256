import { AppError } from "@workforce/protocol";
import { sql } from "kysely";
import { z } from "zod";
import { withSystem, type SystemDatabase, type SystemTransaction } from "../../db/scopes";

/**
 * One organisation's database rows for a per-tenant backup: the `tenants` row, every row of every
 * table with a `tenant_id` column, and the users those rows name (so memberships, invitations and
 * audit entries keep their people). Tables are found from the catalogue, so a table added later
 * is backed up without touching this file. Session state (auth sessions, refresh tokens) is not
 * kept: restored users sign in again.
 */
export const TenantRows = z.object({
  tenantId: z.string(),
  /** Table name → rows, as Postgres renders them to JSON. Restored in this order: tenants, users, then the rest. */
  tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
});
export type TenantRows = z.infer<typeof TenantRows>;

/** Rows that live only while a process runs (stream leases, per-process counters): not data to restore. */
const EPHEMERAL = new Set(["stream_tenant_streams", "stream_leases", "stream_instances", "rate_limits"]);

async function tenantTables(trx: SystemTransaction): Promise<string[]> {
  const rows = await sql<{ table_name: string }>`
    select c.table_name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
    where c.table_schema = current_schema() and c.column_name = 'tenant_id' order by c.table_name`.execute(trx);
  return rows.rows.map((row) => row.table_name).filter((name) => !EPHEMERAL.has(name));
}

/** A table's columns but its generated ones, in table order, from the catalogue. */
async function insertableColumns(trx: SystemTransaction, table: string): Promise<string[]> {
  const rows = await sql<{ column_name: string }>`
    select column_name from information_schema.columns
    where table_schema = current_schema() and table_name = ${table} and is_generated = 'NEVER' order by ordinal_position`.execute(trx);
  return rows.rows.map((row) => row.column_name);
}

/** (table, column) pairs that reference users(id), from the catalogue. */
async function userReferences(trx: SystemTransaction): Promise<{ table: string; column: string }[]> {
  const rows = await sql<{ table_name: string; column_name: string }>`
    select src.relname as table_name, att.attname as column_name
    from pg_constraint con
    join pg_class src on src.oid = con.conrelid
    join pg_class dst on dst.oid = con.confrelid
    join pg_namespace ns on ns.oid = src.relnamespace
    join pg_attribute att on att.attrelid = con.conrelid and att.attnum = con.conkey[1]
    where con.contype = 'f' and dst.relname = 'users' and ns.nspname = current_schema()`.execute(trx);
  return rows.rows.map((row) => ({ table: row.table_name, column: row.column_name }));
}

const rowsOf = async (trx: SystemTransaction, table: string, where: ReturnType<typeof sql>) =>
  (await sql<{ rows: Record<string, unknown>[] }>`select coalesce(json_agg(t), '[]'::json) as rows from ${sql.table(table)} t where ${where}`.execute(trx)).rows[0]?.rows ?? [];

/** Reads the tenant's rows (as the system role, which row-level security lets see every row). */
export async function dumpTenantRows(system: SystemDatabase, tenantId: string): Promise<TenantRows> {
  return withSystem(system, async (trx) => {
    const tenant = await rowsOf(trx, "tenants", sql`t.id = ${tenantId}`);
    if (tenant.length === 0) throw new AppError("not_found", `there is no organisation ${tenantId}`);
    const tables: TenantRows["tables"] = { tenants: tenant };
    const names = await tenantTables(trx);
    for (const table of names) tables[table] = await rowsOf(trx, table, sql`t.tenant_id = ${tenantId}`);
    const userIds = new Set<string>();
    for (const { table, column } of await userReferences(trx)) {
      for (const row of tables[table] ?? []) if (typeof row[column] === "string") userIds.add(row[column]);
    }
    tables.users = userIds.size === 0 ? [] : await rowsOf(trx, "users", sql`t.id in (${sql.join([...userIds])})`);
    return { tenantId, tables };
  });
}

/** Restore order: what others reference first (agents: their tool modes, grants and approvals; MCP servers: their grants). */
function restoreOrder(tables: string[]): string[] {
  const first = ["tenants", "users", "memberships", "api_keys", "invitations", "agents", "mcp_servers"];
  return [...first.filter((name) => tables.includes(name)), ...tables.filter((name) => !first.includes(name)).sort()];
}

/**
 * Inserts a tenant's rows into a running installation in one transaction. Refuses (409
 * tenant_exists) when the organisation exists; users already present (same id) are kept as they
 * are, and a user whose email belongs to another account here is refused rather than merged.
 */
export async function restoreTenantRows(system: SystemDatabase, rows: TenantRows): Promise<{ tables: Record<string, number> }> {
  return withSystem(system, async (trx) => {
    const exists = await trx.selectFrom("tenants").select("id").where("id", "=", rows.tenantId).executeTakeFirst();
    if (exists) throw new AppError("tenant_exists", `organisation ${rows.tenantId} exists in this installation; a restore never overwrites: erase it first, or restore into another installation`);
    const known = new Set(await tenantTables(trx));
    const counts: Record<string, number> = {};
    for (const table of restoreOrder(Object.keys(rows.tables))) {
      if (table !== "tenants" && table !== "users" && !known.has(table)) throw new AppError("backup_invalid", `the backup has rows of an unknown table "${table}"`);
      let values = rows.tables[table] ?? [];
      if (table === "users") values = await newUsers(trx, values);
      if (values.length === 0) continue;
      // json_populate_recordset converts each value to its column's type; identity columns keep their
      // values; generated columns (session_search.document) are left out: Postgres computes them and
      // refuses a value for them.
      const columns = (await insertableColumns(trx, table)).map((column) => sql.ref(column));
      await sql`insert into ${sql.table(table)} (${sql.join(columns)}) overriding system value select ${sql.join(columns)} from json_populate_recordset(null::${sql.table(table)}, ${JSON.stringify(values)}::json)`.execute(trx);
      counts[table] = values.length;
    }
    return { tables: counts };
  });
}

async function newUsers(trx: SystemTransaction, users: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  const fresh: Record<string, unknown>[] = [];
  for (const user of users) {
    const id = z.string().parse(user.id);
    const email = z.string().parse(user.email);
    const existing = await trx.selectFrom("users").select(["id", "email"]).where((eb) => eb.or([eb("id", "=", id), eb("email", "=", email)])).execute();
    if (existing.some((row) => row.id === id)) continue;
    if (existing.length > 0) throw new AppError("conflict", `the backup's user ${email} is another account in this installation (a different id); restore into another installation`);
    // Not the installation's operator here: that stays whoever it is.
    fresh.push({ ...user, is_operator: false });
  }
  return fresh;
}
