/**
 * Schedules on the real gateway process, in fake time: a cron schedule fires on time in its time
 * zone (not before), its run's outcome comes back through the usage journal, two platform
 * processes fire each firing once, a restart after downtime applies the catch-up policy, an
 * organisation over budget or suspended gets its firing recorded as refused, and "run now".
 */
import type { ScheduleFiring, ScheduleView } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { OpenDatabase } from "../../db/open-database";
import { withSystem, withTenant } from "../../db/scopes";
import { startGatewayProcess, type GatewayProcess } from "../../test-support/gateway-process";
import { caller, createTestPlatform, openTestDatabase, signUp, type TestPlatform } from "../../test-support/test-platform";
import { openTwoProcesses } from "../../test-support/two-processes";
import { tenantEventsAfter } from "../tenant-events";
import { tickSchedules } from "./schedule-firing";

const HOOK_TOKEN = "schedules-hook-token";
let gateway: GatewayProcess;
let database: OpenDatabase;
let platform: TestPlatform;
let ada: { token: string; userId: string; tenantId: string };
let clock = new Date("2026-12-03T07:58:00Z");
const now = () => clock;
const at = (iso: string) => (clock = new Date(iso));

let signedInAt = 0;
/** Ada's access token, signed in again when the fake clock has moved past its lifetime. */
async function token(): Promise<string> {
  if (clock.getTime() - signedInAt > 30 * 60_000) {
    const response = await caller(platform)("POST", "/auth/v1/token?grant_type=password", { body: { email: "ada@schedules.example", password: "correct horse battery" } });
    expect(response.status).toBe(200);
    ada.token = ((await response.json()) as { access_token: string }).access_token;
    signedInAt = clock.getTime();
  }
  return ada.token;
}
const call = async (_who: { token: string }, method: string, path: string, body?: unknown) => caller(platform)(method, path, { token: await token(), body });
const SCHEDULE_PARTS = { schedules: { tickMs: 1_000 } };

async function createSchedule(body: Record<string, unknown>): Promise<ScheduleView> {
  const response = await call(ada, "POST", "/api/agents/ada/schedules", body);
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as { schedule: ScheduleView }).schedule;
}

async function firingsOf(scheduleId: string, who = platform): Promise<ScheduleFiring[]> {
  const response = await caller(who)("GET", `/api/agents/ada/schedules/${scheduleId}/firings?limit=100`, { token: await token() });
  expect(response.status).toBe(200);
  return ((await response.json()) as { firings: ScheduleFiring[] }).firings;
}

/** Reads the gateway's journal until every started firing of the schedule has its outcome. */
async function waitForOutcomes(scheduleId: string): Promise<ScheduleFiring[]> {
  for (let tries = 0; tries < 300; tries += 1) {
    await platform.ingest.sync(ada.tenantId);
    const firings = await firingsOf(scheduleId);
    if (!firings.some((firing) => firing.status === "pending" || firing.status === "started")) return firings;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the runs never ended");
}

async function userMessages(session: string): Promise<string[]> {
  const response = await call(ada, "GET", `/api/agents/ada/sessions/${session}`);
  expect(response.status).toBe(200);
  const history = (await response.json()) as { entries: { type: string; content?: unknown; text?: unknown }[] };
  return history.entries.filter((entry) => entry.type === "user").map((entry) => JSON.stringify(entry));
}

beforeAll(async () => {
  gateway = await startGatewayProcess({ hookToken: HOOK_TOKEN });
  database = await openTestDatabase();
  platform = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: HOOK_TOKEN, now, database, parts: SCHEDULE_PARTS });
  ada = await signUp(platform, "ada@schedules.example");
  signedInAt = clock.getTime();
  expect((await call(ada, "POST", "/api/agents", { name: "Ada", role: "Analyst" })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await platform?.close();
  await database?.close();
  await gateway?.stop();
});

describe("schedules", () => {
  it("fire a cron schedule on time in its time zone, not before, and record the run's outcome from the gateway", async () => {
    at("2026-12-03T07:58:00Z");
    const schedule = await createSchedule({ name: "Morning report", kind: "cron", cron: "0 9 * * *", timezone: "Europe/Berlin", message: "Write the morning report", sessionKey: "morning" });
    // 09:00 in Berlin in December is 08:00 UTC.
    expect(schedule).toMatchObject({ enabled: true, catchUp: "skip", sessionMode: "fixed", nextFireAt: "2026-12-03T08:00:00.000Z", createdBy: { userId: ada.userId } });

    at("2026-12-03T07:59:59Z");
    await platform.jobs.runDue();
    expect(await firingsOf(schedule.id)).toEqual([]);

    at("2026-12-03T08:00:01Z");
    await platform.jobs.runDue();
    const [fired] = await firingsOf(schedule.id);
    expect(fired).toMatchObject({ scheduledFor: "2026-12-03T08:00:00.000Z", status: "started", manual: false, sessionKey: "morning", runId: expect.any(String) });

    const [done] = await waitForOutcomes(schedule.id);
    expect(done).toMatchObject({ status: "completed", runId: fired!.runId, usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) } });
    expect(await userMessages("morning")).toEqual([expect.stringContaining("Write the morning report")]);
    // Next due tomorrow at 09:00 Berlin time; the schedule shows its last firing.
    const view = ((await (await call(ada, "GET", `/api/agents/ada/schedules/${schedule.id}`)).json()) as { schedule: ScheduleView }).schedule;
    expect(view).toMatchObject({ nextFireAt: "2026-12-04T08:00:00.000Z", lastFiring: { id: fired!.id, status: "completed" } });

    const events = await withTenant(platform.database.db, ada.tenantId, (trx) => tenantEventsAfter(trx, ada.tenantId, 0));
    expect(events.filter((event) => event.type === "schedule.fired")).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ scheduleId: schedule.id, firingId: fired!.id, status: "started", runId: fired!.runId, agent: "ada" }) }),
    ]);
    // Its run's end is told like any other's, naming the firing.
    expect(events.filter((event) => event.data.runId === fired!.runId).map((event) => event.type)).toEqual(["schedule.fired", "run.completed"]);
    await call(ada, "DELETE", `/api/agents/ada/schedules/${schedule.id}`);
  });

  it("two platform processes fire each firing time exactly once", async () => {
    at("2026-12-03T10:00:00Z");
    // Two processes on one database of their own (on Postgres: two connection pools).
    const processes = await openTwoProcesses(database);
    const one = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: HOOK_TOKEN, now, database: processes.first, parts: SCHEDULE_PARTS });
    const two = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: HOOK_TOKEN, now, database: processes.second, parts: SCHEDULE_PARTS });
    try {
      const pat = await signUp(one, "pat@schedules.example");
      const callOne = (method: string, path: string, body?: unknown) => caller(one)(method, path, { token: pat.token, body });
      expect((await callOne("POST", "/api/agents", { name: "Ada", role: "Analyst" })).status).toBe(201);
      const response = await callOne("POST", "/api/agents/ada/schedules", { name: "Pulse", kind: "every", everyMinutes: 1, message: "Pulse check", sessionKey: "pulse" });
      expect(response.status).toBe(201);
      const schedule = ((await response.json()) as { schedule: ScheduleView }).schedule;
      for (const minute of ["10:01:00", "10:02:00", "10:03:00"]) {
        at(`2026-12-03T${minute}Z`);
        // Both runners, and both ticks directly at once (as if two ticks overlapped).
        await Promise.all([one.jobs.runDue(), two.jobs.runDue(), tickSchedules({ system: one.database.system, now }), tickSchedules({ system: two.database.system, now })]);
        await Promise.all([one.jobs.runDue(), two.jobs.runDue()]);
      }
      const firingsNow = async () => ((await (await callOne("GET", `/api/agents/ada/schedules/${schedule.id}/firings`)).json()) as { firings: ScheduleFiring[] }).firings;
      const firings = await firingsNow();
      expect(firings.map((firing) => [firing.scheduledFor, firing.status])).toEqual([
        ["2026-12-03T10:03:00.000Z", "started"],
        ["2026-12-03T10:02:00.000Z", "started"],
        ["2026-12-03T10:01:00.000Z", "started"],
      ]);
      expect(new Set(firings.map((firing) => firing.runId)).size).toBe(3);
      for (let tries = 0; tries < 300 && (await firingsNow()).some((firing) => firing.status === "started"); tries += 1) {
        await one.ingest.sync(pat.tenantId);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await firingsNow()).map((firing) => firing.status)).toEqual(["completed", "completed", "completed"]);
      // The agent was sent the message three times: once per firing time.
      const history = (await (await callOne("GET", "/api/agents/ada/sessions/pulse")).json()) as { entries: { type: string }[] };
      expect(history.entries.filter((entry) => entry.type === "user")).toHaveLength(3);
      expect((await callOne("DELETE", `/api/agents/ada/schedules/${schedule.id}`)).status).toBe(204);
    } finally {
      await one.close();
      await two.close();
      await processes.close();
    }
  });

  it("after downtime, a new platform skips the missed firings or runs once for them, as each schedule says", async () => {
    at("2026-12-03T12:00:00Z");
    const skip = await createSchedule({ name: "Skipper", kind: "every", everyMinutes: 10, message: "Skip what was missed", sessionMode: "new" });
    const once = await createSchedule({ name: "Catcher", kind: "every", everyMinutes: 10, message: "Catch up once", sessionMode: "new", catchUp: "run_once" });
    const oneShot = await createSchedule({ name: "Once", kind: "at", at: "2026-12-03T12:05", timezone: "UTC", message: "Just this once", sessionKey: "one-shot" });
    // Every platform stops; 35 minutes later (firing times 12:10, 12:20, 12:30 passed; the `at` too) one starts again.
    await platform.close();
    at("2026-12-03T12:35:00Z");
    platform = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: HOOK_TOKEN, now, database, parts: SCHEDULE_PARTS });
    await platform.jobs.runDue();

    expect(await firingsOf(skip.id)).toEqual([
      expect.objectContaining({ scheduledFor: "2026-12-03T12:30:00.000Z", status: "skipped", runId: null, missed: { count: 3, from: "2026-12-03T12:10:00.000Z" }, error: expect.objectContaining({ code: "missed" }) }),
    ]);
    expect(await firingsOf(once.id)).toEqual([expect.objectContaining({ scheduledFor: "2026-12-03T12:30:00.000Z", status: "started", runId: expect.any(String), missed: { count: 3, from: "2026-12-03T12:10:00.000Z" } })]);
    expect(await firingsOf(oneShot.id)).toEqual([expect.objectContaining({ scheduledFor: "2026-12-03T12:05:00.000Z", status: "skipped" })]);
    const schedules = ((await (await call(ada, "GET", "/api/agents/ada/schedules")).json()) as { schedules: ScheduleView[] }).schedules;
    const byName = new Map(schedules.map((schedule) => [schedule.name, schedule]));
    expect(byName.get("Skipper")?.nextFireAt).toBe("2026-12-03T12:40:00.000Z");
    expect(byName.get("Catcher")?.nextFireAt).toBe("2026-12-03T12:40:00.000Z");
    // An `at` schedule turns itself off once its time has passed.
    expect(byName.get("Once")).toMatchObject({ enabled: false, nextFireAt: null });

    // Back to normal: the next time fires for both.
    at("2026-12-03T12:40:00Z");
    await platform.jobs.runDue();
    expect((await firingsOf(skip.id))[0]).toMatchObject({ scheduledFor: "2026-12-03T12:40:00.000Z", status: "started", missed: null });
    expect((await firingsOf(once.id))[0]).toMatchObject({ scheduledFor: "2026-12-03T12:40:00.000Z", status: "started", missed: null });
    await waitForOutcomes(skip.id);
    await waitForOutcomes(once.id);
    for (const schedule of [skip, once, oneShot]) await call(ada, "DELETE", `/api/agents/ada/schedules/${schedule.id}`);
  });

  it("records a firing as refused while the organisation is over budget or suspended, never drops it", async () => {
    at("2026-12-03T14:00:00Z");
    const schedule = await createSchedule({ name: "Budgeted", kind: "every", everyMinutes: 5, message: "Spend tokens", sessionKey: "budgeted" });
    await withSystem(platform.database.system, (trx) => trx.insertInto("tenant_budgets").values({ tenant_id: ada.tenantId, monthly_tokens: 0, updated_by: null }).execute());
    at("2026-12-03T14:05:00Z");
    await platform.jobs.runDue();
    await withSystem(platform.database.system, (trx) => trx.deleteFrom("tenant_budgets").where("tenant_id", "=", ada.tenantId).execute());
    await withSystem(platform.database.system, (trx) => trx.updateTable("tenants").set({ suspended_at: clock, suspended_reason: "unpaid" }).where("id", "=", ada.tenantId).execute());
    at("2026-12-03T14:10:00Z");
    await platform.jobs.runDue();
    await withSystem(platform.database.system, (trx) => trx.updateTable("tenants").set({ suspended_at: null, suspended_reason: null }).where("id", "=", ada.tenantId).execute());

    expect(await firingsOf(schedule.id)).toEqual([
      expect.objectContaining({ scheduledFor: "2026-12-03T14:10:00.000Z", status: "refused", runId: null, error: expect.objectContaining({ code: "tenant_suspended" }) }),
      expect.objectContaining({ scheduledFor: "2026-12-03T14:05:00.000Z", status: "refused", runId: null, error: expect.objectContaining({ code: "budget_exceeded" }) }),
    ]);
    const events = await withTenant(platform.database.db, ada.tenantId, (trx) => tenantEventsAfter(trx, ada.tenantId, 0));
    expect(events.filter((event) => event.type === "schedule.fired" && event.data.scheduleId === schedule.id).map((event) => (event.data.error as { code: string }).code)).toEqual([
      "budget_exceeded",
      "tenant_suspended",
    ]);
    await call(ada, "DELETE", `/api/agents/ada/schedules/${schedule.id}`);
  });

  it("runs now, also while turned off, the same way as a timed firing, and audits who asked", async () => {
    at("2026-12-03T15:00:00Z");
    const schedule = await createSchedule({ name: "On demand", kind: "cron", cron: "@weekly", message: "Summarise the week", sessionMode: "new", enabled: false });
    expect(schedule.nextFireAt).toBeNull();
    const response = await call(ada, "POST", `/api/agents/ada/schedules/${schedule.id}/run`);
    expect(response.status).toBe(202);
    const { firing } = (await response.json()) as { firing: ScheduleFiring };
    expect(firing).toMatchObject({ status: "pending", manual: true, requestedBy: ada.userId, scheduledFor: "2026-12-03T15:00:00.000Z" });
    await platform.jobs.runDue();
    const [done] = await waitForOutcomes(schedule.id);
    // A new session per firing, named after the firing, and the member's own.
    expect(done).toMatchObject({ id: firing.id, status: "completed", sessionKey: `schedule-${firing.id}` });
    expect(await userMessages(`schedule-${firing.id}`)).toEqual([expect.stringContaining("Summarise the week")]);
    const recent = (await (await call(ada, "GET", "/api/agents/ada/schedule-firings")).json()) as { firings: (ScheduleFiring & { scheduleName: string })[] };
    expect(recent.firings[0]).toMatchObject({ id: firing.id, scheduleName: "On demand" });

    const audit = await withTenant(platform.database.db, ada.tenantId, (trx) => trx.selectFrom("audit_log").select(["action", "target"]).where("action", "like", "schedule.%").where("target", "=", `ada/${schedule.id}`).orderBy("seq").execute());
    expect(audit.map((entry) => entry.action)).toEqual(["schedule.create", "schedule.run"]);
  });

  it("retries a firing while the gateway is away, and records it failed after the last attempt", async () => {
    at("2026-12-03T16:00:00Z");
    const schedule = await createSchedule({ name: "Unlucky", kind: "every", everyMinutes: 60, message: "Try anyway", sessionMode: "new", enabled: false });
    const away = await createTestPlatform({ gatewayUrl: "http://127.0.0.1:9", now, database, parts: SCHEDULE_PARTS });
    // Each failed attempt is logged; that is expected here.
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const response = await caller(away)("POST", `/api/agents/ada/schedules/${schedule.id}/run`, { token: await token() });
      expect(response.status).toBe(202);
      const { firing } = (await response.json()) as { firing: ScheduleFiring };
      await away.jobs.runDue();
      expect(await firingsOf(schedule.id)).toEqual([expect.objectContaining({ id: firing.id, status: "pending" })]);
      // Backoff: 10 s, 20 s, 40 s, 80 s, 160 s; the sixth attempt gives up.
      for (let attempt = 0; attempt < 6; attempt += 1) {
        at(new Date(clock.getTime() + 200_000).toISOString());
        await away.jobs.runDue();
      }
      expect(await firingsOf(schedule.id)).toEqual([expect.objectContaining({ status: "failed", runId: null, error: expect.objectContaining({ code: "gateway_unavailable" }) })]);
      expect(logged.mock.calls.filter(([message]) => String(message).startsWith("job schedules.fire"))).toHaveLength(5);
    } finally {
      await away.close();
    }
  });
});
