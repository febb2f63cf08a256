import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../db/open-database";
import { adminQuery } from "../../test-support/test-platform";
import { freePort } from "../../test-support/free-port";
import { doctorIn } from "./doctor-test-support";

const templateDir = fileURLToPath(new URL("../../../dist/pglite-template", import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const postgresUrl = process.env.DATABASE_URL;

let tmp: string;
let base: Record<string, string>;
/** The database doctor looks at: a scratch Postgres schema when DATABASE_URL is set, else a PGlite directory. */
let database: { env: Record<string, string>; exec(statement: string): Promise<void>; drop(): Promise<void> };

async function scratchDatabase(): Promise<typeof database> {
  if (postgresUrl) {
    const schema = `doctor_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    await adminQuery(postgresUrl, `create schema "${schema}"`);
    await (await openDatabase({ databaseUrl: postgresUrl, schema })).close();
    const url = new URL(postgresUrl);
    url.searchParams.set("options", `-c search_path=${schema}`);
    return {
      env: { DATABASE_URL: url.toString() },
      exec: async (statement) => {
        const client = new pg.Client({ connectionString: url.toString() });
        await client.connect();
        await client.query(statement).finally(() => client.end());
      },
      drop: () => adminQuery(postgresUrl, `drop schema "${schema}" cascade`),
    };
  }
  const dir = path.join(tmp, "db");
  await (await openDatabase({ pgliteDataDir: dir, pgliteTemplateDir: templateDir })).close();
  return {
    env: { PGLITE_DATA_DIR: dir },
    exec: async (statement) => {
      const pglite = await PGlite.create(dir);
      await pglite.exec(statement).finally(() => pglite.close());
    },
    drop: async () => undefined,
  };
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "wf-doctor-deps-"));
  base = {
    PATH: process.env.PATH ?? "",
    HOME: tmp,
    PORT: String(await freePort()),
    CLAWDBOT_GATEWAY_URL: `http://127.0.0.1:${await freePort()}`,
    TENANT_DATA_DIR: path.join(tmp, "tenants"),
    PGLITE_DATA_DIR: path.join(tmp, "db"),
  };
  database = await scratchDatabase();
}, 120_000);
afterAll(async () => {
  await database?.drop();
  await rm(tmp, { recursive: true, force: true });
});

describe(`workforce doctor on the database (${postgresUrl ? "Postgres" : "PGlite"})`, { timeout: 60_000 }, () => {
  it("passes a migrated database with forced row-level security and a clock in step", async () => {
    const report = await doctorIn({ ...base, ...database.env });
    expect(report.check("database").status).toBe("pass");
    expect(report.check("migrations")).toMatchObject({ status: "pass", detail: expect.stringMatching(/^all \d+ applied$/) });
    expect(report.check("row-level security")).toMatchObject({ status: "pass", detail: expect.stringMatching(/^enabled and forced on all \d+ tenant tables$/) });
    expect(report.check("clock skew").status).toBe("pass");
  });

  it("fails a clock ten minutes ahead of the database", async () => {
    const report = await doctorIn({ ...base, ...database.env }, { now: () => new Date(Date.now() + 10 * 60_000) });
    expect(report.check("clock skew")).toMatchObject({ status: "fail", detail: expect.stringMatching(/ahead of the database/), fix: expect.stringContaining("NTP") });
  });

  it("fails row-level security that is not forced, naming the table and the statement", async () => {
    await database.exec("alter table agents no force row level security");
    try {
      const report = await doctorIn({ ...base, ...database.env });
      expect(report.check("row-level security")).toMatchObject({
        status: "fail",
        detail: expect.stringContaining("agents (not forced)"),
        fix: expect.stringContaining("alter table agents enable row level security, force row level security;"),
      });
    } finally {
      await database.exec("alter table agents force row level security");
    }
  });

  it("fails a database whose latest migration is not applied", async () => {
    await database.exec("delete from kysely_migration where name = (select max(name) from kysely_migration)");
    const report = await doctorIn({ ...base, ...database.env });
    expect(report.check("migrations")).toMatchObject({ status: "fail", detail: expect.stringMatching(/^1 of \d+ not applied: /), fix: expect.stringContaining("npm run migrate -w platform") });
  });

  it("fails a Postgres that does not answer", async () => {
    const report = await doctorIn({ ...base, DATABASE_URL: `postgresql://postgres@127.0.0.1:${await freePort()}/none` });
    expect(report.check("database")).toMatchObject({ status: "fail", detail: expect.stringContaining("cannot connect to the Postgres of DATABASE_URL") });
  });
});

describe("workforce doctor on Redis", { timeout: 30_000 }, () => {
  it("passes when REDIS_URL answers PING, and is skipped when unset", async () => {
    expect((await doctorIn({ ...base, REDIS_URL })).check("redis")).toMatchObject({ status: "pass", detail: expect.stringContaining("answers PING") });
    expect((await doctorIn(base)).check("redis").status).toBe("skip");
  });

  it("fails a REDIS_URL where nothing listens", async () => {
    const report = await doctorIn({ ...base, REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(report.check("redis")).toMatchObject({ status: "fail", detail: expect.stringContaining("cannot reach Redis"), fix: expect.stringContaining("REDIS_URL") });
  });

  it("fails credentials Redis refuses", async () => {
    const url = new URL(REDIS_URL);
    url.username = "nobody";
    url.password = "wrong-password";
    const report = await doctorIn({ ...base, REDIS_URL: url.toString() });
    expect(report.check("redis")).toMatchObject({ status: "fail", detail: expect.stringContaining("refuses the credentials") });
    expect(JSON.stringify(report)).not.toContain("wrong-password");
  });
});

describe("workforce doctor on the model provider's key (against the fake upstream)", { timeout: 30_000 }, () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ apiKey: "the-right-key" });
  });
  afterAll(async () => {
    await upstream.close();
  });

  it("passes a key the provider accepts, with one request that costs no tokens", async () => {
    upstream.reset();
    const report = await doctorIn({ ...base, ANTHROPIC_API_KEY: "the-right-key", ANTHROPIC_BASE_URL: upstream.url, OPENAI_API_KEY: "the-right-key", OPENAI_BASE_URL: upstream.openaiBaseUrl });
    expect(report.check("anthropic key").status).toBe("pass");
    expect(report.check("openai-compatible key").status).toBe("pass");
    expect(upstream.requests.map((request) => `${request.method} ${request.path}`).sort()).toEqual(["GET /v1/models", "GET /v1/models"]);
  });

  it("fails a key the provider rejects, never printing it", async () => {
    const report = await doctorIn({ ...base, ANTHROPIC_API_KEY: "sk-ant-wrong-key", ANTHROPIC_BASE_URL: upstream.url });
    expect(report.check("anthropic key")).toMatchObject({ status: "fail", detail: expect.stringContaining("rejects ANTHROPIC_API_KEY (HTTP 401)") });
    expect(JSON.stringify(report)).not.toContain("sk-ant-wrong-key");
  });

  it("skips the check when the provider cannot be reached (offline) or no key is set", async () => {
    const offline = await doctorIn({ ...base, ANTHROPIC_API_KEY: "sk-ant-any", ANTHROPIC_BASE_URL: `http://127.0.0.1:${await freePort()}` });
    expect(offline.check("anthropic key")).toMatchObject({ status: "skip", detail: expect.stringContaining("cannot be reached from here (offline?)") });
    expect((await doctorIn(base)).check("model provider key").status).toBe("skip");
  });
});
