import { spawn } from "node:child_process";
import pg from "pg";
import { CliError } from "../../cli/cli-command";

/**
 * pg_dump and psql for a Postgres installation. The connection string is handed over as libpq's
 * PG* variables, never on the command line, where every user of the machine could read the password.
 */
function libpqEnvironment(connectionString: string, base: Record<string, string | undefined>): Record<string, string> {
  const url = new URL(connectionString);
  const env: Record<string, string> = Object.fromEntries(Object.entries(base).filter((entry): entry is [string, string] => entry[1] !== undefined));
  env.PGHOST = decodeURIComponent(url.hostname);
  if (url.port) env.PGPORT = url.port;
  if (url.username) env.PGUSER = decodeURIComponent(url.username);
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  env.PGDATABASE = decodeURIComponent(url.pathname.replace(/^\//, "")) || env.PGUSER || "postgres";
  const sslmode = url.searchParams.get("sslmode");
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

function run(command: string, args: string[], env: Record<string, string>, input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(new CliError(error.code === "ENOENT" ? `${command} is not on the PATH: install the PostgreSQL client tools (the same major version as the server)` : `${command}: ${error.message}`)),
    );
    child.on("close", (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new CliError(`${command} failed (exit ${code}): ${err.trim().split("\n").slice(-3).join(" ")}`))));
    if (input) child.stdin?.end(input);
  });
}

/**
 * Every table has FORCEd row-level security (decision 009): a role that does not bypass it dumps
 * no rows without a word (pg_dump sets row_security off and then fails, or an older one dumps
 * nothing). So the dump runs only as a superuser or a BYPASSRLS role, and says so otherwise.
 */
export async function assertBypassesRls(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  try {
    await client.connect();
    const row = (await client.query<{ login: string; bypass: boolean }>("select current_user as login, (rolsuper or rolbypassrls) as bypass from pg_roles where rolname = current_user")).rows[0];
    if (!row?.bypass) {
      throw new CliError(
        `the database login "${row?.login ?? "?"}" is subject to row-level security, so pg_dump would back up no rows: run the backup with DATABASE_MIGRATION_URL (or --database-url) set to a superuser or a role with BYPASSRLS (as a superuser: alter role "${row?.login ?? "<role>"}" bypassrls;)`,
      );
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot connect to the database to back it up: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A plain SQL dump of the whole database (schema, rows, policies, grants), with DROP ... IF EXISTS first. */
export async function pgDump(connectionString: string, env: Record<string, string | undefined>): Promise<Buffer> {
  await assertBypassesRls(connectionString);
  return run("pg_dump", ["--format=plain", "--clean", "--if-exists", "--no-password"], libpqEnvironment(connectionString, env));
}

/** Refuses a database that holds accounts or organisations: a full restore goes into an empty installation only. */
export async function assertEmptyPostgres(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  try {
    await client.connect();
    const present = (await client.query<{ tenants: string | null; users: string | null }>("select to_regclass('tenants')::text as tenants, to_regclass('users')::text as users")).rows[0];
    for (const table of ["tenants", "users"] as const) {
      if (!present?.[table]) continue;
      const count = Number((await client.query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]?.n ?? 0);
      if (count > 0) throw new CliError(`the target database is not empty (${count} row(s) in ${table}): a full restore goes into an empty installation only; use a new database, or restore one organisation with a per-tenant backup`);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot connect to the target database: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function psqlRestore(connectionString: string, script: Buffer, env: Record<string, string | undefined>): Promise<void> {
  await run("psql", ["--no-password", "--quiet", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", "-"], libpqEnvironment(connectionString, env), script);
}
