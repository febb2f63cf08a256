import { randomUUID } from "node:crypto";
import type { UsageRecord } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTenant } from "../db/scopes";
import { createGatewayClient } from "../gateway-client";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { sendMessage } from "../test-support/send-message";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../test-support/test-platform";
import { createUsageIngest } from "./usage-ingest";

let gateway: FakeGateway;
let first: TestPlatform;
let second: TestPlatform;
let ada: { token: string; userId: string; tenantId: string };
let grace: { token: string; userId: string; tenantId: string };

beforeAll(async () => {
  gateway = await startFakeGateway();
  first = await createTestPlatform({ gatewayUrl: gateway.url });
  second = await createTestPlatform({ gatewayUrl: gateway.url, database: first.database });
  ada = await signUp(first, "ada@example.com");
  grace = await signUp(first, "grace@example.com");
  await caller(first)("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst" } });
});
afterAll(async () => {
  await second.close();
  await first.close();
  await gateway.close();
});

function record(overrides: Partial<UsageRecord> = {}): UsageRecord {
  const at = new Date().toISOString();
  return { runId: randomUUID(), agent: "ada", sessionKey: "s", source: "hook", model: "offline", status: "ok", inputTokens: 10, outputTokens: 20, queuedAt: at, endedAt: at, ...overrides };
}
const line = (value: UsageRecord) => `${JSON.stringify(value)}\n`;

async function usage(platform: TestPlatform, token: string): Promise<{ runs: number; inputTokens: number; outputTokens: number }> {
  const response = await caller(platform)("GET", "/api/usage", { token });
  expect(response.status).toBe(200);
  return ((await response.json()) as { totals: { runs: number; inputTokens: number; outputTokens: number } }).totals;
}

async function rows(tenantId: string) {
  return withTenant(first.database.db, tenantId, (trx) => trx.selectFrom("usage_events").select(["run_id", "user_id", "api_key_id", "input_tokens", "output_tokens"]).execute());
}

describe("usage ingestion from the gateway's journal", () => {
  it("counts runs nobody streamed, and a streamed run once, for the same user either way", async () => {
    const sent = await sendMessage(caller(first), { token: ada.token, agent: "ada", message: "Hello" });
    expect(sent.status).toBe(200);
    const hook = record();
    // A user of another organisation (or none at all) named by mistake is not credited.
    const stranger = record({ userId: grace.userId, source: "http" });
    gateway.appendJournal(ada.tenantId, line(hook) + line(stranger) + JSON.stringify(record()).slice(0, 30));

    expect(await usage(first, ada.token)).toMatchObject({ runs: 3 });
    expect(await usage(second, ada.token)).toMatchObject({ runs: 3 });
    // The platform named the sender in chat.send, so the gateway's record credits the same user.
    const journal = await createGatewayClient({ baseUrl: gateway.url, hookToken: undefined }).usageJournal(ada.tenantId, 0);
    expect(journal.entries.find((entry) => entry.record.runId === sent.runId)?.record.userId).toBe(ada.userId);
    const byRun = new Map((await rows(ada.tenantId)).map((row) => [row.run_id, row]));
    expect(byRun.get(sent.runId ?? "")?.user_id).toBe(ada.userId);
    expect(byRun.get(hook.runId)).toMatchObject({ user_id: null, api_key_id: null, input_tokens: 10, output_tokens: 20 });
    expect(byRun.get(stranger.runId)?.user_id).toBeNull();
    expect(await usage(first, grace.token)).toMatchObject({ runs: 0 });
  });

  it("serves a burst of syncs asked for during an ingestion with ONE more, which sees what was appended before they asked", async () => {
    const client = createGatewayClient({ baseUrl: gateway.url, hookToken: undefined });
    let reads = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstRead!: () => void;
    const firstReadDone = new Promise<void>((resolve) => (firstRead = resolve));
    const ingest = createUsageIngest({
      db: first.database.db,
      system: first.database.system,
      gateway: {
        usagePending: (tenants) => client.usagePending(tenants),
        async usageJournal(tenantId, after) {
          reads += 1;
          const page = await client.usageJournal(tenantId, after);
          if (reads === 1) {
            firstRead();
            await held;
          }
          return page;
        },
      },
      logError: (message, error) => console.error(message, error),
      intervalMs: 60_000,
    });
    const under = ingest.sync(ada.tenantId);
    await firstReadDone;
    // Appended after the running ingestion read the journal: only an ingestion after it sees this.
    const late = record();
    gateway.appendJournal(ada.tenantId, line(late));
    const burst = Array.from({ length: 50 }, () => ingest.sync(ada.tenantId));
    release();
    await Promise.all([under, ...burst]);
    expect(reads).toBe(2);
    expect((await rows(ada.tenantId)).some((row) => row.run_id === late.runId)).toBe(true);
    // And the next sync, with nothing running, reads again.
    await ingest.sync(ada.tenantId);
    expect(reads).toBe(3);
  });

  it("inserts every record once when platform processes ingest the same journal at once", async () => {
    const before = (await rows(ada.tenantId)).length;
    const records = Array.from({ length: 120 }, () => record({ inputTokens: 1, outputTokens: 1 }));
    gateway.appendJournal(ada.tenantId, records.map(line).join(""));
    const ingesters = [first, second, first, second].map((platform) =>
      createUsageIngest({
        db: platform.database.db,
        system: platform.database.system,
        gateway: createGatewayClient({ baseUrl: gateway.url, hookToken: undefined }),
        logError: (message, error) => console.error(message, error),
        intervalMs: 60_000,
      }),
    );
    await Promise.all(ingesters.flatMap((ingest) => [ingest.syncAll(), ingest.sync(ada.tenantId)]));
    const after = await rows(ada.tenantId);
    expect(after.length).toBe(before + 120);
    expect(new Set(after.map((row) => row.run_id)).size).toBe(after.length);
    // A record appended twice (a retried write) is still one run.
    gateway.appendJournal(ada.tenantId, line(records[0]!));
    expect(await usage(first, ada.token)).toMatchObject({ runs: before + 120 });
    const cursor = await withTenant(first.database.db, ada.tenantId, (trx) => trx.selectFrom("usage_ingest_cursors").select("journal_offset").executeTakeFirstOrThrow());
    const page = await createGatewayClient({ baseUrl: gateway.url, hookToken: undefined }).usageJournal(ada.tenantId, 0);
    expect(Number(cursor.journal_offset)).toBe(page.size);
    // Row-level security: another organisation sees neither the cursor nor the rows.
    expect(await withTenant(first.database.db, grace.tenantId, (trx) => trx.selectFrom("usage_ingest_cursors").selectAll().where("tenant_id", "=", ada.tenantId).execute())).toEqual([]);
    expect(await withTenant(first.database.db, grace.tenantId, (trx) => trx.selectFrom("usage_events").select("run_id").where("tenant_id", "=", ada.tenantId).execute())).toEqual([]);
  });
});
