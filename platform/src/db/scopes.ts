/**
 * The only way to run a query (decision 009). The platform's database handles are opaque: code
 * holding a `Database` cannot build a query on it, only open a scoped transaction, and the
 * transaction types below cannot be made any other way. A route that forgets its scope does not
 * compile; a connection used without one (as the app role) sees no rows, because every table
 * forces row-level security.
 */
import { sql, type Kysely, type Transaction } from "kysely";
import { APP_ROLE } from "./migrations/002-tenancy-and-rls";
import { SYSTEM_ROLE } from "./migrations/004-forced-rls-and-system-role";
import type { DatabaseSchema } from "./schema";

declare const appBrand: unique symbol;
declare const systemBrand: unique symbol;
declare const tenantBrand: unique symbol;
declare const userBrand: unique symbol;
declare const systemScopeBrand: unique symbol;

/** The handle routes get: it opens tenant and user transactions, nothing else. */
export type Database = { readonly [appBrand]: true };
/** The handle of the few cross-tenant operations (auth, organisations, statistics); also opens tenant and user transactions. */
export type SystemDatabase = Database & { readonly [systemBrand]: true };

/** A transaction as `workforce_app` with `app.tenant_id` set: row-level security shows one tenant. */
export type TenantTransaction = Transaction<DatabaseSchema> & { readonly [tenantBrand]: true };
/** A transaction as `workforce_app` with `app.user_id` set: one user's memberships and organisations. */
export type UserTransaction = Transaction<DatabaseSchema> & { readonly [userBrand]: true };
/** A transaction as `workforce_system`: every row. Only for operations that are cross-tenant by nature. */
export type SystemTransaction = Transaction<DatabaseSchema> & { readonly [systemScopeBrand]: true };

const kyselyOf = new WeakMap<object, Kysely<DatabaseSchema>>();

/** Wraps a Kysely instance (called by `openDatabase` alone). */
export function databaseHandles(kysely: Kysely<DatabaseSchema>): { db: Database; system: SystemDatabase } {
  const db = Object.freeze({ scope: "app" }) as unknown as Database;
  const system = Object.freeze({ scope: "system" }) as unknown as SystemDatabase;
  kyselyOf.set(db, kysely);
  kyselyOf.set(system, kysely);
  return { db, system };
}

function kysely(handle: Database): Kysely<DatabaseSchema> {
  const instance = kyselyOf.get(handle);
  if (!instance) throw new Error("not a database handle opened by openDatabase");
  return instance;
}

type ScopeSettings = { tenantId: string; userId: string; role: string };

/**
 * One round trip: set_config('role', …, true) is what SET LOCAL ROLE does, and the scope settings
 * are local to the transaction too, so a pooled connection never carries them on.
 */
async function enterScope(trx: Transaction<DatabaseSchema>, settings: ScopeSettings): Promise<void> {
  await sql`select set_config('app.tenant_id', ${settings.tenantId}, true), set_config('app.user_id', ${settings.userId}, true), set_config('role', ${settings.role}, true)`.execute(trx);
}

async function scoped<T, Trx>(handle: Database, settings: ScopeSettings, fn: (trx: Trx) => Promise<T>): Promise<T> {
  return kysely(handle)
    .transaction()
    .execute(async (trx) => {
      await enterScope(trx, settings);
      return fn(trx as Trx);
    });
}

/**
 * Runs `fn` in a transaction scoped to one tenant, as `workforce_app`: row-level security shows
 * only that tenant's rows, and refuses writes into another. Use the transaction, never anything else.
 */
export function withTenant<T>(db: Database, tenantId: string, fn: (trx: TenantTransaction) => Promise<T>): Promise<T> {
  return scoped(db, { tenantId, userId: "", role: APP_ROLE }, fn);
}

/** Runs `fn` as one user across their organisations: their own memberships and the tenants they belong to. */
export function withUser<T>(db: Database, userId: string, fn: (trx: UserTransaction) => Promise<T>): Promise<T> {
  return scoped(db, { tenantId: "", userId, role: APP_ROLE }, fn);
}

/** Runs `fn` as `workforce_system`, which sees every row. Only the handle's few holders can. */
export function withSystem<T>(system: SystemDatabase, fn: (trx: SystemTransaction) => Promise<T>): Promise<T> {
  return scoped(system, { tenantId: "", userId: "", role: SYSTEM_ROLE }, fn);
}

/**
 * One transaction in two steps (decision 051): `first` as `workforce_system`, then the same
 * transaction switched to `workforce_app` scoped to `tenantId` for `then`, which gets what `first`
 * returned. Both commit together or not at all. The switch only ever drops privileges, and `then`
 * starts after it: it is handed the tenant-typed transaction alone and runs under row-level
 * security like any `withTenant` step. Keep `first` to what is cross-tenant by nature (a message's
 * stream place), and await everything it starts: a statement it left running would run as the tenant.
 */
export function withSystemThenTenant<S, T>(
  system: SystemDatabase,
  tenantId: string,
  first: (trx: SystemTransaction) => Promise<S>,
  then: (trx: TenantTransaction, fromFirst: S) => Promise<T>,
): Promise<T> {
  return kysely(system)
    .transaction()
    .execute(async (trx) => {
      await enterScope(trx, { tenantId: "", userId: "", role: SYSTEM_ROLE });
      const fromFirst = await first(trx as SystemTransaction);
      await enterScope(trx, { tenantId, userId: "", role: APP_ROLE });
      return then(trx as TenantTransaction, fromFirst);
    });
}

/** `select 1`: whether the database answers (health checks). Touches no table. */
export async function pingDatabase(db: Database): Promise<void> {
  await sql`select 1`.execute(kysely(db));
}
