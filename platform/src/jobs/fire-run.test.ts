/**
 * Runs the platform starts on its own (schedules, heartbeats, approval resumes) on the real
 * gateway process: started on behalf of a member, in a session that member owns, metered as
 * scheduled, joined (not repeated) when a job runs twice, refused while the organisation is over
 * budget or suspended; and every run's end becomes one run.completed / run.failed event.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSystem, withTenant } from "../db/scopes";
import { startGatewayProcess, type GatewayProcess } from "../test-support/gateway-process";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../test-support/test-platform";
import { tenantEventsAfter } from "./tenant-events";

const HOOK_TOKEN = "fire-run-hook-token";
let gateway: GatewayProcess;
let platform: TestPlatform;
let ada: { token: string; userId: string; tenantId: string };

beforeAll(async () => {
  gateway = await startGatewayProcess({ hookToken: HOOK_TOKEN });
  platform = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: HOOK_TOKEN });
  ada = await signUp(platform, "ada@fire.example");
  expect((await caller(platform)("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await platform?.close();
  await gateway?.stop();
});

const request = (overrides: Partial<Parameters<TestPlatform["firePlatformRun"]>[0]> = {}) => ({
  tenantId: ada.tenantId,
  agent: "ada",
  sessionKey: "daily-report",
  message: "Write the daily report",
  idempotencyKey: "schedule:firing-1",
  trigger: { kind: "schedule" as const, id: "schedule-1", firingId: "firing-1" },
  actorUserId: ada.userId,
  ...overrides,
});

async function waitForEnd(runId: string): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    await platform.ingest.sync(ada.tenantId);
    const events = await withTenant(platform.database.db, ada.tenantId, (trx) => tenantEventsAfter(trx, ada.tenantId, 0));
    if (events.some((event) => event.data.runId === runId)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${runId} never ended`);
}

describe("runs the platform fires", () => {
  it("run on behalf of the member, in a session they own, and come back as one run.completed event naming the trigger", async () => {
    const outcome = await platform.firePlatformRun(request());
    expect(outcome.status).toBe("started");
    if (outcome.status !== "started") return;
    // The job ran again (its process died after the gateway accepted): the same run, not a second one.
    const again = await platform.firePlatformRun(request());
    expect(again).toMatchObject({ status: "started", run: { runId: outcome.run.runId } });

    await waitForEnd(outcome.run.runId);
    const events = await withTenant(platform.database.db, ada.tenantId, (trx) => tenantEventsAfter(trx, ada.tenantId, 0));
    expect(events.filter((event) => event.data.runId === outcome.run.runId)).toEqual([
      expect.objectContaining({ type: "run.completed", data: expect.objectContaining({ agent: "ada", sessionKey: "daily-report", status: "ok", source: "schedule", trigger: { kind: "schedule", id: "schedule-1", firingId: "firing-1" } }) }),
    ]);
    // Metered like any run, for the member who set it up.
    const usage = await withTenant(platform.database.db, ada.tenantId, (trx) => trx.selectFrom("usage_events").select(["run_id", "user_id"]).where("run_id", "=", outcome.run.runId).execute());
    expect(usage).toEqual([{ run_id: outcome.run.runId, user_id: ada.userId }]);
    // The session is the member's: it is listed as theirs and they can read it.
    const session = await caller(platform)("GET", "/api/agents/ada/sessions/daily-report", { token: ada.token });
    expect(session.status).toBe(200);
    expect(JSON.stringify(await session.json())).toContain("Write the daily report");
  });

  it("is refused, not dropped, while the organisation is over its budget or suspended", async () => {
    await withSystem(platform.database.system, (trx) => trx.insertInto("tenant_budgets").values({ tenant_id: ada.tenantId, monthly_tokens: 1, updated_by: null }).onConflict((c) => c.column("tenant_id").doUpdateSet({ monthly_tokens: 1 })).execute());
    const overBudget = await platform.firePlatformRun(request({ idempotencyKey: "schedule:firing-2" }));
    expect(overBudget).toMatchObject({ status: "refused", error: { code: "budget_exceeded" } });
    await withSystem(platform.database.system, (trx) => trx.deleteFrom("tenant_budgets").where("tenant_id", "=", ada.tenantId).execute());

    await withSystem(platform.database.system, (trx) => trx.updateTable("tenants").set({ suspended_at: new Date(), suspended_reason: "unpaid" }).where("id", "=", ada.tenantId).execute());
    const suspended = await platform.firePlatformRun(request({ idempotencyKey: "schedule:firing-3" }));
    expect(suspended).toMatchObject({ status: "refused", error: { code: "tenant_suspended" } });
    await withSystem(platform.database.system, (trx) => trx.updateTable("tenants").set({ suspended_at: null, suspended_reason: null }).where("id", "=", ada.tenantId).execute());

    const gone = await platform.firePlatformRun(request({ agent: "nobody", idempotencyKey: "schedule:firing-4" }));
    expect(gone).toMatchObject({ status: "refused", error: { code: "agent_not_found" } });
  });
});
