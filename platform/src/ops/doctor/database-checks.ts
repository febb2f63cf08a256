import { existsSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { DatabaseInUseError, lockPgliteDir } from "../../db/pglite-lock";
import { migrationProvider } from "../../db/migrations";
import { errorText, fail, pass, skip, warn, type CheckResult, type DoctorContext } from "./doctor-check";
import type { DoctorSettings } from "./doctor-settings";
import type { RunningSystem } from "./service-checks";

/** Read-only SQL on whichever database the platform uses. */
interface SqlRunner {
  query<R>(text: string): Promise<R[]>;
  close(): Promise<void>;
}

const CLOCK_SKEW_WARN_MS = 2_000;
const CLOCK_SKEW_FAIL_MS = 30_000;

async function openPostgres(url: string): Promise<SqlRunner> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  // An unreachable server also emits 'error' after connect() rejects; the rejection is what we report.
  client.on("error", () => undefined);
  await client.connect();
  return {
    query: async <R>(text: string) => (await client.query(text)).rows as R[],
    close: () => client.end(),
  };
}

/** The embedded database under the platform's lock (one process at a time), as its owner; never migrated here. */
async function openPglite(dir: string): Promise<SqlRunner> {
  const lock = await lockPgliteDir(dir);
  try {
    const pglite = await PGlite.create(dir);
    return {
      query: async <R>(text: string) => (await pglite.query<R>(text)).rows,
      close: async () => {
        await pglite.close();
        await lock.release();
      },
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** Reachable, migrations current, row-level security forced, clock in step: one connection for all. */
export async function checkDatabase(context: DoctorContext, settings: DoctorSettings, system: RunningSystem): Promise<CheckResult[]> {
  const name = "database";
  let runner: SqlRunner;
  if (settings.migrationUrl) {
    try {
      runner = await openPostgres(settings.migrationUrl);
    } catch (error) {
      return [fail(name, `cannot connect to the Postgres of ${settings.migrationUrl === settings.databaseUrl ? "DATABASE_URL" : "DATABASE_MIGRATION_URL"}: ${errorText(error)}`, "start Postgres, or correct the host, port, user, password and database name in the URL")];
    }
  } else {
    if (!existsSync(path.join(settings.pgliteDataDir, "PG_VERSION"))) {
      return [warn(name, `there is no embedded database in ${settings.pgliteDataDir} yet`, "start Workforce once (npm start); it creates and migrates it")];
    }
    if (system.platform) return [skip(name, `the embedded database ${settings.pgliteDataDir} is open in the running platform; its /api/health reports it (see "platform health")`)];
    try {
      runner = await openPglite(settings.pgliteDataDir);
    } catch (error) {
      if (error instanceof DatabaseInUseError) return [skip(name, `the embedded database is in use by another process: ${error.message}`)];
      return [fail(name, `cannot open the embedded database ${settings.pgliteDataDir}: ${errorText(error)}`, "restore the directory from a backup, or move it aside and start Workforce to create a new one")];
    }
  }
  try {
    const results: CheckResult[] = [pass(name, settings.migrationUrl ? "Postgres answers" : `the embedded database ${settings.pgliteDataDir} opens`)];
    results.push(await checkMigrations(runner), await checkRowLevelSecurity(runner), await checkClockSkew(context, runner));
    return results;
  } catch (error) {
    return [fail(name, `a query failed: ${errorText(error)}`, "check the database's log; the login needs to read pg_catalog")];
  } finally {
    await runner.close();
  }
}

async function checkMigrations(runner: SqlRunner): Promise<CheckResult> {
  const name = "migrations";
  const known = Object.keys(await migrationProvider.getMigrations()).sort();
  const [table] = await runner.query<{ present: boolean }>("select to_regclass('kysely_migration') is not null as present");
  const applied = table?.present ? (await runner.query<{ name: string }>("select name from kysely_migration")).map((row) => row.name) : [];
  const pending = known.filter((migration) => !applied.includes(migration));
  const unknown = applied.filter((migration) => !known.includes(migration));
  const fix = "npm run migrate -w platform (with the platform's DATABASE_URL / DATABASE_MIGRATION_URL / PGLITE_DATA_DIR), or start the platform, which applies them";
  if (pending.length > 0) return fail(name, `${pending.length} of ${known.length} not applied: ${pending.join(", ")}`, fix);
  if (unknown.length > 0) return warn(name, `the database has migrations this code does not know (${unknown.join(", ")}): it was migrated by a newer Workforce`, "run the newer version, or restore a backup from before the upgrade");
  return pass(name, `all ${known.length} applied`);
}

/** Every table with a tenant_id has RLS enabled and FORCEd (decision 009), so even its owner is filtered. */
async function checkRowLevelSecurity(runner: SqlRunner): Promise<CheckResult> {
  const name = "row-level security";
  const rows = await runner.query<{ table: string; enabled: boolean; forced: boolean }>(`
    select c.relname as "table", c.relrowsecurity as enabled, c.relforcerowsecurity as forced
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind = 'r'
      and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
    order by 1`);
  if (rows.length === 0) return skip(name, "no tenant tables yet (migrations not applied)");
  const off = rows.filter((row) => !row.enabled || !row.forced);
  if (off.length > 0) {
    const statements = off.map((row) => `alter table ${row.table} enable row level security, force row level security;`).join(" ");
    return fail(name, `not enabled and forced on ${off.map((row) => `${row.table} (${row.enabled ? "not forced" : "off"})`).join(", ")}: one tenant could read another's rows`, `as the tables' owner: ${statements}`);
  }
  return pass(name, `enabled and forced on all ${rows.length} tenant tables`);
}

/** Token expiry and rate-limit windows compare this machine's clock with the database's. */
async function checkClockSkew(context: DoctorContext, runner: SqlRunner): Promise<CheckResult> {
  const name = "clock skew";
  const before = Date.now();
  const [row] = await runner.query<{ now: Date | string }>("select now() as now");
  const roundTrip = Date.now() - before;
  const databaseTime = new Date(row?.now ?? Number.NaN).getTime();
  const skew = context.now().getTime() - roundTrip / 2 - databaseTime;
  const detail = `this machine is ${Math.abs(Math.round(skew))} ms ${skew >= 0 ? "ahead of" : "behind"} the database`;
  const fix = "run NTP on both machines (timedatectl set-ntp true, or chrony); tokens and rate limits compare the two clocks";
  if (Math.abs(skew) >= CLOCK_SKEW_FAIL_MS) return fail(name, detail, fix);
  if (Math.abs(skew) >= CLOCK_SKEW_WARN_MS + roundTrip) return warn(name, detail, fix);
  return pass(name, detail);
}
