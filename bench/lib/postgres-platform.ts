/**
 * The bench's fifth path: a second platform in front of the same gateway, on the Postgres server
 * (DATABASE_URL) instead of the embedded PGlite. It gets a private database, `bench_<random>`,
 * created by the login of --postgres-url and dropped when the bench ends — also on Ctrl-C
 * (`dropBenchDatabases`) and when a phase fails. A server that does not answer is not an error:
 * the bench is a tool, so the path is reported as not measured, with the reason.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { PostgresRun } from "./context";
import { cpuMsByPid, type PlatformService } from "./services";
import type { BenchSystem } from "./system";

export interface BenchDatabase {
  /** Connection string of the private database: the server's URL with the database's name. */
  url: string;
  name: string;
  /** "host:port" without credentials, for the report and the log. */
  server: string;
  version: string;
  /** Whether the server runs on this machine, so its backends' CPU can be read from /proc. */
  local: boolean;
  /** CPU ms of each server backend connected to the database now, by pid (empty when not local). */
  backendCpu(): Promise<Map<number, number>>;
  /** Drops the database (forcing its connections off) and closes the admin connection; once. */
  drop(): Promise<void>;
}

/** Databases created and not dropped yet, for Ctrl-C. */
const created = new Set<BenchDatabase>();

/** "host:port" of a postgres:// URL: what the report names, never the password. */
export function serverOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname || "localhost"}:${parsed.port || "5432"}`;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);
/** A system error by its code (ECONNREFUSED), anything else (a server's refusal) by its message's first line. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : (error.message.split("\n")[0] ?? "");
}

/**
 * Creates `bench_<random>` on the server of `serverUrl`; a server that does not answer, or a login
 * that may not create databases, gives the reason instead.
 */
export async function createBenchDatabase(serverUrl: string, connectTimeoutMs = 3_000): Promise<BenchDatabase | { notMeasured: string }> {
  const server = serverOf(serverUrl);
  const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: connectTimeoutMs });
  // A server that goes away mid-bench: the next query says so.
  admin.on("error", () => undefined);
  try {
    await admin.connect();
  } catch (error) {
    const reason = reasonOf(error);
    // Nothing listening (or unreachable) is the usual case; a server that refused the login says so.
    return { notMeasured: /^E[A-Z]+$/.test(reason) || /timeout/i.test(reason) ? `no Postgres server at ${server} (${reason})` : `the Postgres server at ${server} refused the connection (${reason})` };
  }
  const name = `bench_${randomBytes(6).toString("hex")}`;
  let version: string;
  try {
    version = (await admin.query<{ server_version: string }>("show server_version")).rows[0]?.server_version ?? "?";
    await admin.query(`create database ${name}`);
  } catch (error) {
    await admin.end().catch(() => undefined);
    return { notMeasured: `could not create a database on the Postgres server at ${server} (${reasonOf(error)})` };
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const local = LOOPBACK.has(url.hostname);
  let dropping: Promise<void> | undefined;
  const database: BenchDatabase = {
    url: url.toString(),
    name,
    server,
    version,
    local,
    async backendCpu() {
      if (!local) return new Map();
      const { rows } = await admin.query<{ pid: number }>("select pid from pg_stat_activity where datname = $1", [name]);
      return cpuMsByPid(rows.map((row) => row.pid));
    },
    drop() {
      dropping ??= (async () => {
        created.delete(database);
        try {
          await admin.query(`drop database if exists ${name} with (force)`);
        } finally {
          await admin.end().catch(() => undefined);
        }
      })();
      return dropping;
    },
  };
  created.add(database);
  return database;
}

/** Drops every database this process created and has not dropped yet (Ctrl-C), within `timeoutMs`. */
export async function dropBenchDatabases(timeoutMs = 5_000): Promise<void> {
  const drops = Promise.all([...created].map((database) => database.drop().catch(() => undefined)));
  await Promise.race([drops, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
}

export interface PostgresPlatform {
  /** What the report says: the server and its version, or why the path was not measured. */
  run: PostgresRun;
  platform?: PlatformService;
  /** Per-pid CPU of the server backends serving the platform (only for a server on this machine). */
  backendCpu?: () => Promise<Map<number, number>>;
  /** Why the platform, started on the server, did not become healthy (its output): a product failure, not a missing server. */
  failed?: string;
  /** Stops the platform and drops its database. */
  stop(): Promise<void>;
}

/**
 * Starts the platform on a private database of the server at `serverUrl` (undefined: --postgres-url
 * off) in front of `system`'s gateway, with the same limits as the embedded one.
 */
export async function startPostgresPlatform(system: BenchSystem, serverUrl: string | undefined, nodeFlags: string[] = []): Promise<PostgresPlatform> {
  const nothing = async () => undefined;
  if (!serverUrl) return { run: { measured: false, reason: "not measured: --postgres-url off" }, stop: nothing };
  const database = await createBenchDatabase(serverUrl);
  if ("notMeasured" in database) return { run: { measured: false, reason: `not measured: ${database.notMeasured}` }, stop: nothing };
  let platform: PlatformService;
  try {
    platform = await system.addPlatform({ name: "platform-postgres", env: { DATABASE_URL: database.url }, nodeFlags });
  } catch (error) {
    await database.drop().catch(() => undefined);
    const reason = `the platform did not start on the Postgres server at ${database.server}: ${reasonOf(error)}`;
    return { run: { measured: false, reason: `not measured: ${reason}` }, failed: error instanceof Error ? error.message : String(error), stop: nothing };
  }
  return {
    run: { measured: true, server: database.server, version: database.version },
    platform,
    ...(database.local ? { backendCpu: () => database.backendCpu() } : {}),
    async stop() {
      await platform.stop();
      await database.drop();
    },
  };
}
