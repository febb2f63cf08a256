/**
 * The bench's private database on the Postgres server, for real: created, its backends' CPU read,
 * dropped (also by the Ctrl-C path). The server tests run where DATABASE_URL names one (the CI
 * phase on Postgres sets it; a server that is missing there fails the test); the rest needs none.
 */
import net from "node:net";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_POSTGRES_URL, parseOptions } from "./options";
import { createBenchDatabase, dropBenchDatabases, serverOf, type BenchDatabase } from "./postgres-platform";
import { cpuUsedBetween } from "./services";

const serverUrl = process.env.DATABASE_URL;

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return (await client.query("select 1 from pg_database where datname = $1", [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe("where the bench looks for a Postgres server", () => {
  it("takes --postgres-url, else BENCH_DATABASE_URL, else the local server; 'off' measures no server", () => {
    expect(parseOptions([], {}).postgresUrl).toBe(DEFAULT_POSTGRES_URL);
    expect(parseOptions([], { BENCH_DATABASE_URL: "postgres://bench@db.internal:6543/postgres" }).postgresUrl).toBe("postgres://bench@db.internal:6543/postgres");
    expect(parseOptions(["--postgres-url", "postgresql://me@127.0.0.1:5433/x"], { BENCH_DATABASE_URL: "postgres://other/postgres" }).postgresUrl).toBe("postgresql://me@127.0.0.1:5433/x");
    expect(parseOptions(["--postgres-url", "off"], {}).postgresUrl).toBeUndefined();
    expect(() => parseOptions(["--postgres-url", "127.0.0.1:5432"], {})).toThrow(/--postgres-url must be a postgres:\/\/ URL or "off"/);
  });

  it("names the server without the password", () => {
    expect(serverOf("postgres://bench:s3cret@db.internal:6543/postgres")).toBe("db.internal:6543");
    expect(serverOf("postgres://127.0.0.1/postgres")).toBe("127.0.0.1:5432");
  });

  it("reports a server that does not answer instead of failing", async () => {
    const port = await closedPort();
    const result = await createBenchDatabase(`postgres://postgres@127.0.0.1:${port}/postgres`);
    expect(result).toEqual({ notMeasured: `no Postgres server at 127.0.0.1:${port} (ECONNREFUSED)` });
  });
});

describe("CPU of processes that come and go between two readings", () => {
  it("counts a process in both by its difference, a new one in full, and a gone one not at all", () => {
    const before = new Map([
      [10, 100],
      [11, 50],
    ]);
    const after = new Map([
      [10, 130],
      [12, 7],
    ]);
    expect(cpuUsedBetween(before, after)).toBe(37);
    expect(cpuUsedBetween(undefined, after)).toBe(137);
  });
});

describe.runIf(serverUrl)("the bench's private database on the Postgres server", () => {
  const created: BenchDatabase[] = [];
  afterAll(async () => {
    for (const database of created) await database.drop();
  });

  it("creates bench_<random>, reads the CPU of the backends connected to it, and drops it with them", async () => {
    const database = await createBenchDatabase(serverUrl!);
    if ("notMeasured" in database) throw new Error(database.notMeasured);
    created.push(database);
    expect(database.name).toMatch(/^bench_[0-9a-f]{12}$/);
    expect(new URL(database.url).pathname).toBe(`/${database.name}`);
    expect(await databaseExists(database.name)).toBe(true);

    const client = new pg.Client({ connectionString: database.url });
    // Dropped with (force) below: the backend goes away under it.
    client.on("error", () => undefined);
    await client.connect();
    const backend = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
    await client.query("select count(*) from generate_series(1, 200000)");
    const cpu = await database.backendCpu();
    if (database.local) expect(cpu.get(backend)).toBeGreaterThanOrEqual(0);
    else expect(cpu.size).toBe(0);

    await database.drop();
    await database.drop();
    expect(await databaseExists(database.name)).toBe(false);
    await client.end().catch(() => undefined);
  });

  it("drops what it created when the bench is interrupted (Ctrl-C)", async () => {
    const database = await createBenchDatabase(serverUrl!);
    if ("notMeasured" in database) throw new Error(database.notMeasured);
    created.push(database);
    await dropBenchDatabases();
    expect(await databaseExists(database.name)).toBe(false);
  });
});
