import { sql } from "kysely";
import type { Database, TenantTransaction } from "./schema";

/**
 * Runs `fn` in a transaction scoped to one tenant: `app.tenant_id` is set for this transaction
 * only, and row-level security policies read it, so a query that forgets its tenant filter
 * still sees only this tenant's rows. Always use the transaction handed to `fn`, never `db`.
 */
export async function withTenant<T>(db: Database, tenantId: string, fn: (trx: TenantTransaction) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`select set_config('app.tenant_id', ${tenantId}, true)`.execute(trx);
    return fn(trx);
  });
}
