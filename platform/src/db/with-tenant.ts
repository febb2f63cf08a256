import { sql } from "kysely";
import { APP_ROLE } from "./migrations/002-tenancy-and-rls";
import type { Database, TenantTransaction } from "./schema";

async function scoped<T>(db: Database, settings: { tenantId: string; userId: string }, fn: (trx: TenantTransaction) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    // One round trip: set_config('role', …, true) is what SET LOCAL ROLE does, and the
    // tenant settings are local to the transaction as well.
    await sql`select set_config('app.tenant_id', ${settings.tenantId}, true), set_config('app.user_id', ${settings.userId}, true), set_config('role', ${APP_ROLE}, true)`.execute(
      trx,
    );
    return fn(trx);
  });
}

/**
 * Runs `fn` in a transaction scoped to one tenant, as the unprivileged `workforce_app` role:
 * `app.tenant_id` is set for this transaction only and the row-level security policies read
 * it, so a query that forgets its tenant filter still sees only this tenant's rows. Always use
 * the transaction handed to `fn`, never `db`.
 */
export function withTenant<T>(db: Database, tenantId: string, fn: (trx: TenantTransaction) => Promise<T>): Promise<T> {
  return scoped(db, { tenantId, userId: "" }, fn);
}

/**
 * Runs `fn` as one user across their tenants (to list or choose organisations): policies then
 * show only that user's own memberships and the tenants they belong to.
 */
export function withUser<T>(db: Database, userId: string, fn: (trx: TenantTransaction) => Promise<T>): Promise<T> {
  return scoped(db, { tenantId: "", userId }, fn);
}
