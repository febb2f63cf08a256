import { Kysely, PostgresDialect, sql, type LogConfig } from "kysely";
import pg from "pg";
import { migrateDatabase } from "./migrate-database";
import { migrationProvider } from "./migrations";
import { APP_ROLE } from "./migrations/002-tenancy-and-rls";
import { SYSTEM_ROLE } from "./migrations/004-forced-rls-and-system-role";
import { prepareStatements, StatementNames } from "./prepared-statements";
import { startEmbeddedDatabase, type EmbeddedDatabaseProcess } from "./embedded-database-process";
import { openPglite } from "./pglite-open";
import type { DatabaseSchema } from "./schema";
import { databaseHandles, type Database, type SystemDatabase } from "./scopes";

export interface OpenDatabase {
  /** Tenant and user transactions (what routes get). */
  db: Database;
  /** Also system transactions: only for the few cross-tenant operations. */
  system: SystemDatabase;
  /** "postgres" (DATABASE_URL) or "pglite" (embedded). */
  kind: "postgres" | "pglite";
  /** True when a new PGlite directory was created from the template instead of by initdb. */
  seededFromTemplate?: boolean;
  /** Migrations applied while opening. */
  applied: string[];
  /**
   * PGlite only: the whole data directory as a gzipped tar, taken between transactions after a
   * checkpoint, so it is consistent while the platform runs (`workforce backup`, decision 020).
   */
  dumpDataDir?: () => Promise<Uint8Array>;
  /** The embedded database's process id, when it runs in a process of its own (decision 050). */
  embeddedDatabasePid?: () => number | undefined;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Postgres connection string the application logs in with; when absent the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** The table owner's connection string, for migrations (DATABASE_MIGRATION_URL); default databaseUrl. */
  migrationUrl?: string | undefined;
  /** Directory of the embedded database; "memory://" keeps it in memory (tests). */
  pgliteDataDir?: string | undefined;
  /** A pre-initialised, migrated PGlite directory that new data directories are copied from. */
  pgliteTemplateDir?: string | undefined;
  /** Postgres schema to use instead of public (one per test worker). */
  schema?: string | undefined;
  /**
   * Apply pending migrations and check the login's roles before handing out the handles (default
   * true). False connects lazily, on the first query.
   */
  migrate?: boolean;
  /**
   * Run the embedded PGlite (a directory, not memory://) in a process of its own and connect to it
   * over a private socket, as the long-running platform does (decision 050). Default: in this process.
   */
  pgliteProcess?: boolean;
  /**
   * Told of every statement the platform's handles run, transaction control included (Kysely's
   * `log`): how many transactions a message costs is counted through it (decision 051).
   */
  log?: LogConfig | undefined;
  /**
   * With pgliteProcess: the database's process, already being started by the caller (main.ts starts
   * it before loading the rest of the platform), used instead of starting one; closed when it turns
   * out not to be needed (DATABASE_URL, memory://). Its restart callbacks are the caller's.
   */
  embeddedDatabase?: Promise<EmbeddedDatabaseProcess> | undefined;
  /** With pgliteProcess: told when the database process died and is restarted. */
  onEmbeddedDatabaseEvent?: (message: string) => void;
  /** With pgliteProcess: told when it cannot be restarted; the platform cannot go on. */
  onEmbeddedDatabaseFatal?: (message: string) => void;
}

/** Why the application's login cannot use the platform's roles, with the statement that fixes it. */
export class DatabaseRoleError extends Error {
  override name = "DatabaseRoleError";
}

function pool(connectionString: string, schema: string | undefined, max: number): pg.Pool {
  return new pg.Pool({ connectionString, max, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
}

/**
 * Makes sure the login of DATABASE_URL may switch to the platform's roles. The migrating owner
 * grants the app role when the login is someone else (a role that owns no tables, decision 009).
 * Asked on a connection of its own: the app pool's connections switch role as they open.
 */
async function ensureRoleMembership(databaseUrl: string, owner: Kysely<DatabaseSchema> | undefined): Promise<void> {
  const probe = new pg.Client({ connectionString: databaseUrl });
  await probe.connect();
  try {
    const check = async () =>
      (
        await probe.query<{ login: string; superuser: boolean; app: boolean; system: boolean }>(
          `select current_user as login, (select rolsuper from pg_roles where rolname = current_user) as superuser,
             pg_has_role(current_user, $1, 'MEMBER') as app, pg_has_role(current_user, $2, 'MEMBER') as system`,
          [APP_ROLE, SYSTEM_ROLE],
        )
      ).rows[0];
    let row = await check();
    if (!row || row.superuser || (row.app && row.system)) return;
    if (owner) {
      try {
        // The system role comes with it (the app role is a member of it, without inheriting).
        await sql`grant ${sql.id(APP_ROLE)} to ${sql.id(row.login)}`.execute(owner);
        row = await check();
      } catch {
        // reported below with the statement to run by hand
      }
    }
    if (row && !(row.app && row.system)) {
      throw new DatabaseRoleError(
        `the DATABASE_URL login "${row.login}" is not a member of ${APP_ROLE} (and through it ${SYSTEM_ROLE}); as the tables' owner run: grant ${APP_ROLE} to "${row.login}";`,
      );
    }
  } finally {
    await probe.end();
  }
}

async function openPostgres(options: DatabaseOptions & { databaseUrl: string }): Promise<OpenDatabase> {
  let applied: string[] = [];
  const ownerUrl = options.migrationUrl ?? options.databaseUrl;
  const owner = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: pool(ownerUrl, options.schema, 1) }) });
  try {
    if (options.migrate !== false) applied = await migrateDatabase(owner, options.schema);
    if (options.migrate !== false) await ensureRoleMembership(options.databaseUrl, options.migrationUrl ? owner : undefined);
  } finally {
    await owner.destroy();
  }
  const appPool = pool(options.databaseUrl, options.schema, 10);
  // Every connection starts as the app role: a query outside any scope sees no rows even when the
  // login is the tables' owner. A connection that cannot switch is closed rather than used.
  appPool.on("connect", (client) => {
    client.query(`set role ${APP_ROLE}`).catch(() => void client.end());
  });
  const app = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: appPool }), ...(options.log ? { log: options.log } : {}) });
  return { ...databaseHandles(app), kind: "postgres", applied, close: () => app.destroy() };
}

/** The embedded database in its own process, through the pg driver on its private socket (decision 050). */
async function openPgliteProcess(options: DatabaseOptions & { pgliteDataDir: string }): Promise<OpenDatabase> {
  const embedded = await (options.embeddedDatabase ??
    startEmbeddedDatabase({
      dataDir: options.pgliteDataDir,
      templateDir: options.pgliteTemplateDir,
      migrations: Object.keys(await migrationProvider.getMigrations()),
      onRestart: options.onEmbeddedDatabaseEvent,
      onFatal: options.onEmbeddedDatabaseFatal,
    }));
  // PGlite is one session: one connection at a time, the owner's (its superuser) to migrate, then
  // the app's, where every query and transaction waits its turn.
  const connection = { host: embedded.socketDir, user: "postgres", database: "postgres" };
  let applied: string[] = [];
  if (options.migrate !== false) {
    const owner = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: new pg.Pool({ ...connection, max: 1 }) }) });
    try {
      applied = await migrateDatabase(owner);
    } catch (error) {
      await embedded.close();
      throw error;
    } finally {
      await owner.destroy();
    }
  }
  const appPool = new pg.Pool({ ...connection, max: 1 });
  // Parsed and planned once per statement text, not per query (decision 054).
  const names = new StatementNames();
  appPool.on("connect", (client) => {
    prepareStatements(client, names);
    client.query(`set role ${APP_ROLE}`).catch(() => void client.end());
  });
  // An idle connection lost with a restarting database process: the next query opens a new one.
  appPool.on("error", () => undefined);
  const kysely = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: appPool }), ...(options.log ? { log: options.log } : {}) });
  return {
    ...databaseHandles(kysely),
    kind: "pglite",
    seededFromTemplate: embedded.seededFromTemplate,
    applied,
    embeddedDatabasePid: () => embedded.pid(),
    // One connection: holding it keeps every transaction out while the files are read.
    dumpDataDir: () =>
      kysely.connection().execute(async (connection) => {
        await sql.raw(`reset role; checkpoint; set role ${APP_ROLE}`).execute(connection);
        return embedded.dump();
      }),
    async close() {
      await kysely.destroy();
      await embedded.close();
    },
  };
}

/**
 * Opens Postgres through a pg pool, or the embedded PGlite persisted at `pgliteDataDir` (in its own
 * process with `pgliteProcess`, else in this one), and migrates it.
 */
export async function openDatabase(options: DatabaseOptions): Promise<OpenDatabase> {
  const dataDir = options.pgliteDataDir ?? "memory://";
  if (!options.databaseUrl && options.pgliteProcess && !dataDir.startsWith("memory://")) return openPgliteProcess({ ...options, pgliteDataDir: dataDir });
  // A database process started for nothing.
  void options.embeddedDatabase?.then((unneeded) => unneeded.close()).catch(() => undefined);
  if (options.databaseUrl) return openPostgres({ ...options, databaseUrl: options.databaseUrl });
  const opened = await openPglite({ dataDir, templateDir: options.pgliteTemplateDir, migrate: options.migrate !== false, log: options.log });
  const { pglite, kysely, seededFromTemplate, applied } = opened;
  const close = () => opened.close();
  try {
    // PGlite's one session is a superuser, which row-level security never filters: from here on
    // it is the app role, and only scoped transactions switch (locally) to another.
    await pglite.exec(`set role ${APP_ROLE}`);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    ...databaseHandles(kysely),
    kind: "pglite",
    seededFromTemplate,
    applied,
    // One connection: holding it keeps every transaction out while the files are read.
    dumpDataDir: () =>
      kysely.connection().execute(async () => {
        await pglite.exec(`reset role; checkpoint; set role ${APP_ROLE}`);
        return new Uint8Array(await (await pglite.dumpDataDir("gzip")).arrayBuffer());
      }),
    close,
  };
}
