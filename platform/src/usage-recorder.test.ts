import { withSystem } from "./db/scopes";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "./db/open-database";
import { openTestDatabase } from "./test-support/test-platform";
import { createUsageRecorder, type UsageRecord } from "./usage-recorder";

let database: OpenDatabase;
let tenantId: string;

beforeAll(async () => {
  database = await openTestDatabase();
  tenantId = (await withSystem(database.system, (trx) => trx.insertInto("tenants").values({ name: "Usage", created_at: new Date() }).returning("id").executeTakeFirstOrThrow())).id;
});
afterAll(async () => {
  await database.close();
});

const record = (runId: string, extra: Partial<UsageRecord> = {}): UsageRecord => ({
  tenantId,
  userId: null,
  apiKeyId: null,
  agentSlug: "ada",
  runId,
  status: "ok",
  inputTokens: 3,
  outputTokens: 4,
  at: new Date(),
  ...extra,
});

const rowsOf = async (runIds: string[]) =>
  (await withSystem(database.system, (trx) => trx.selectFrom("usage_events").select("run_id").where("run_id", "in", runIds).execute())).map((row) => row.run_id).sort();

describe("the usage recorder", () => {
  it("writes queued runs in one batch, once per run, and counts them as uncommitted until then", async () => {
    const usage = createUsageRecorder({ db: database.db, logError: () => undefined, flushDelayMs: 60_000 });
    expect(usage.record(record("batch-1"))).toBe(true);
    expect(usage.record(record("batch-2"))).toBe(true);
    expect(usage.record(record("batch-1"))).toBe(false);
    expect(usage.uncommittedTokens(tenantId)).toBe(14);
    expect(await rowsOf(["batch-1", "batch-2"])).toEqual([]);
    await usage.flush();
    expect(await rowsOf(["batch-1", "batch-2"])).toEqual(["batch-1", "batch-2"]);
    expect(usage.uncommittedTokens(tenantId)).toBe(0);
  });

  it("writes within its delay without anyone flushing", async () => {
    const usage = createUsageRecorder({ db: database.db, logError: () => undefined, flushDelayMs: 20 });
    usage.record(record("timed-1"));
    const deadline = Date.now() + 5_000;
    while ((await rowsOf(["timed-1"])).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await rowsOf(["timed-1"])).toEqual(["timed-1"]);
  });

  it("keeps a row the database refuses for a retry without holding back the rest of its batch", async () => {
    const errors: string[] = [];
    const usage = createUsageRecorder({ db: database.db, logError: (message) => errors.push(message), flushDelayMs: 60_000 });
    // A user that does not exist: the foreign key refuses this row.
    usage.record(record("bad-1", { userId: randomUUID() }));
    usage.record(record("good-1"));
    await usage.flush();
    expect(await rowsOf(["bad-1", "good-1"])).toEqual(["good-1"]);
    expect(usage.pending).toBe(1);
    expect(usage.uncommittedTokens(tenantId)).toBe(7);
    expect(errors).toEqual([expect.stringMatching(/could not record the usage of 1 run/)]);
  });
});
