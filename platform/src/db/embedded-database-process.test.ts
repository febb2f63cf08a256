import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { toAppError } from "../http-errors";
import { readTarGz } from "../ops/backup/tar-archive";
import { startEmbeddedDatabase } from "./embedded-database-process";
import { migrationProvider } from "./migrations";
import { openDatabase, type OpenDatabase } from "./open-database";
import { DatabaseInUseError } from "./pglite-lock";
import { withSystem } from "./scopes";
import { BUILT_PGLITE_TEMPLATE as templateDir, repoRoot } from "../test-support/pglite-template-dir";


let dir: string;
const opened: OpenDatabase[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "workforce-embedded-db-"));
});
afterEach(async () => {
  for (const database of opened.splice(0)) await database.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function open(events: string[] = []): Promise<OpenDatabase> {
  const database = await openDatabase({
    pgliteDataDir: dir,
    pgliteTemplateDir: templateDir,
    pgliteProcess: true,
    onEmbeddedDatabaseEvent: (message) => events.push(message),
    onEmbeddedDatabaseFatal: (message) => events.push(`fatal: ${message}`),
  });
  opened.push(database);
  return database;
}

const userCount = (database: OpenDatabase) =>
  withSystem(database.system, async (trx) => Number((await sql<{ n: number }>`select count(*)::int as n from users`.execute(trx)).rows[0]!.n));
const addUser = (database: OpenDatabase, email: string) =>
  withSystem(database.system, (trx) => trx.insertInto("users").values({ email, password_hash: "not a hash" }).execute());

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function withoutDatabaseUrl(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...rest } = env;
  return rest;
}

describe("the embedded database in its own process", { timeout: 180_000 }, () => {
  it("serves the platform's queries from another process, and keeps what was written", async () => {
    const database = await open();
    const pid = database.embeddedDatabasePid!()!;
    expect(pid).not.toBe(process.pid);
    expect(isRunning(pid)).toBe(true);
    await addUser(database, "kept@example.com");
    await database.close();
    expect(isRunning(pid)).toBe(false);
    expect(existsSync(path.join(dir, "workforce.lock"))).toBe(false);

    const again = await open();
    expect(await userCount(again)).toBe(1);
  });

  it("fails queries as database_unavailable while its process is dead, restarts it, and loses nothing committed", async () => {
    const events: string[] = [];
    const database = await open(events);
    await addUser(database, "before-kill@example.com");
    const pid = database.embeddedDatabasePid!()!;
    process.kill(pid, "SIGKILL");
    await until(() => !isRunning(pid), "the database process to die");
    const error = await userCount(database).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(toAppError(error, () => undefined).code).toBe("database_unavailable");
    // Restarted on the same socket: the next queries succeed, with the committed row.
    await until(async () => (await userCount(database).catch(() => -1)) === 1, "the restarted database to answer");
    expect(events.join("\n")).toMatch(/embedded database process \(pid \d+\) exited .*restarting it/);
    expect(database.embeddedDatabasePid!()).not.toBe(pid);
  });

  it("uses a database process started ahead of time, and closes one that turns out not to be needed", async () => {
    const early = startEmbeddedDatabase({ dataDir: dir, templateDir, migrations: Object.keys(await migrationProvider.getMigrations()) });
    const database = await openDatabase({ pgliteDataDir: dir, pgliteProcess: true, embeddedDatabase: early });
    opened.push(database);
    expect(database.embeddedDatabasePid!()).toBe((await early).pid());
    await addUser(database, "early@example.com");
    expect(await userCount(database)).toBe(1);
    await database.close();

    // Started for a directory, but the platform runs in memory after all: that process ends, and the directory is free.
    const unneeded = startEmbeddedDatabase({ dataDir: dir, templateDir, migrations: Object.keys(await migrationProvider.getMigrations()) });
    const pid = (await unneeded).pid()!;
    const inMemory = await openDatabase({ pgliteDataDir: "memory://", pgliteProcess: true, embeddedDatabase: unneeded });
    opened.push(inMemory);
    await until(() => !isRunning(pid), "the unneeded database process to end");
    expect(await userCount(await open())).toBe(1);
  });

  it("refuses a second opener of the same directory, in a process of its own or in-process", async () => {
    await open();
    await expect(open()).rejects.toBeInstanceOf(DatabaseInUseError);
    await expect(openDatabase({ pgliteDataDir: dir })).rejects.toBeInstanceOf(DatabaseInUseError);
  });

  it("dumps a consistent data directory for backups through the process", async () => {
    const database = await open();
    const files = readTarGz(Buffer.from(await database.dumpDataDir!()));
    expect(files.some((file) => path.posix.basename(file.name) === "PG_VERSION")).toBe(true);
    // Queries go on afterwards.
    await addUser(database, "after-dump@example.com");
    expect(await userCount(database)).toBe(1);
  });

  it("ends when the platform's process is killed, releasing the directory", async () => {
    // A real platform: it opens the database while it waits (long) for a gateway that is not there.
    const platform = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "platform", "src", "main.ts")], {
      cwd: repoRoot,
      // Without DATABASE_URL (CI sets it for the Postgres-server run): this is about the embedded database.
      env: { ...withoutDatabaseUrl(process.env), PGLITE_DATA_DIR: dir, PORT: "0", CLAWDBOT_GATEWAY_URL: "http://127.0.0.1:9", GATEWAY_WAIT_MS: "60000", HOME: dir },
      stdio: "ignore",
    });
    try {
      let child = 0;
      await until(async () => {
        const children = await readFile(`/proc/${platform.pid}/task/${platform.pid}/children`, "utf8").catch(() => "");
        child = Number(children.trim().split(/\s+/)[0] ?? 0);
        return child > 0 && existsSync(path.join(dir, "workforce.lock"));
      }, "the platform to start its database process");
      platform.kill("SIGKILL");
      await until(() => !isRunning(child), "the database process to end with the platform");
      // Nobody holds the directory now: it opens again.
      await open();
    } finally {
      platform.kill("SIGKILL");
    }
  });
});
