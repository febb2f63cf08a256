/**
 * The schedules API: who may do what, what a bad schedule is told, turning one on and off, the
 * caps, the paged firing history, and the audit log.
 */
import type { ScheduleFiring, ScheduleView } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSystem, withTenant } from "../../db/scopes";
import { startFakeGateway, type FakeGateway } from "../../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../../test-support/test-platform";
import { MAX_SCHEDULES_PER_AGENT } from "./schedule-store";

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let owner: { token: string; userId: string; tenantId: string };
let admin: { token: string; userId: string; tenantId: string };
let member: { token: string; userId: string; tenantId: string };
let clock = new Date("2026-12-03T10:00:00Z");
// The clock stays within one access token's lifetime.
const now = () => clock;

const create = (who: { token: string }, body: Record<string, unknown>, agent = "ada") => call("POST", `/api/agents/${agent}/schedules`, { token: who.token, body });
const daily = { name: "Daily", kind: "cron", cron: "0 9 * * *", timezone: "Europe/Berlin", message: "Report", sessionKey: "daily" };

beforeAll(async () => {
  gateway = await startFakeGateway();
  platform = await createTestPlatform({ gatewayUrl: gateway.url, now });
  const plain = caller(platform);
  // Everyone acts in Olga's organisation (the members joined it; their own is the default otherwise).
  call = (method, path, options = {}) => plain(method, path, { ...options, headers: { "x-tenant-id": owner.tenantId, ...options.headers } });
  owner = await signUp(platform, "olga@sched.example");
  admin = await joinAs(platform, owner, "adam@sched.example", "admin");
  member = await joinAs(platform, owner, "mia@sched.example", "member");
  expect((await call("POST", "/api/agents", { token: owner.token, body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await platform?.close();
  await gateway?.close();
});

describe("the schedules API", () => {
  it("lets owners and admins set schedules up and members only look", async () => {
    expect(await errorOf(await create(member, daily))).toMatchObject({ status: 403, code: "forbidden" });
    const made = await create(admin, daily);
    expect(made.status).toBe(201);
    const { schedule } = (await made.json()) as { schedule: ScheduleView };
    expect(schedule).toMatchObject({ name: "Daily", createdBy: { userId: admin.userId, email: "adam@sched.example" }, nextFireAt: "2026-12-04T08:00:00.000Z", lastFiring: null });
    const listed = (await (await call("GET", "/api/agents/ada/schedules", { token: member.token })).json()) as { schedules: ScheduleView[] };
    expect(listed.schedules.map((each) => each.id)).toContain(schedule.id);
    expect((await call("GET", `/api/agents/ada/schedules/${schedule.id}/firings`, { token: member.token })).status).toBe(200);
    for (const [method, path] of [
      ["PATCH", `/api/agents/ada/schedules/${schedule.id}`],
      ["DELETE", `/api/agents/ada/schedules/${schedule.id}`],
      ["POST", `/api/agents/ada/schedules/${schedule.id}/run`],
    ] as const) {
      expect(await errorOf(await call(method, path, { token: member.token, body: method === "PATCH" ? { enabled: false } : undefined }))).toMatchObject({ status: 403, code: "forbidden" });
    }
    expect((await call("DELETE", `/api/agents/ada/schedules/${schedule.id}`, { token: owner.token })).status).toBe(204);
    expect(await errorOf(await call("GET", `/api/agents/ada/schedules/${schedule.id}`, { token: owner.token }))).toMatchObject({ status: 404, code: "schedule_not_found" });
  });

  it("tells what is wrong with a schedule that cannot fire", async () => {
    const refused = async (body: Record<string, unknown>) => errorOf(await create(owner, { ...daily, ...body }));
    expect(await refused({ cron: "0 25 * * *" })).toEqual({ status: 400, code: "invalid_schedule", message: expect.stringMatching(/"0 25 \* \* \*" is not valid: .*hour/) });
    expect(await refused({ timezone: "Europe/Atlantis" })).toEqual({ status: 400, code: "invalid_schedule", message: expect.stringContaining('Unknown time zone "Europe/Atlantis"') });
    expect(await refused({ kind: "at", cron: undefined, at: "2026-12-03T10:59", timezone: "Europe/Berlin" })).toMatchObject({ code: "invalid_schedule", message: expect.stringContaining("in the past") });
    expect(await refused({ kind: "every", cron: undefined, everyMinutes: 0 })).toMatchObject({ status: 400, code: "validation_failed", message: expect.stringContaining("everyMinutes") });
    expect(await refused({ kind: "every" })).toMatchObject({ code: "invalid_schedule", message: expect.stringContaining('"everyMinutes"') });
    expect(await refused({ sessionKey: undefined })).toMatchObject({ code: "invalid_schedule", message: expect.stringContaining("needs a sessionKey") });
    expect(await refused({ message: "" })).toMatchObject({ code: "validation_failed", message: expect.stringContaining("message") });
    expect(await errorOf(await create(owner, daily, "nobody"))).toMatchObject({ status: 404, code: "agent_not_found" });
  });

  it("turns a schedule off and on (due again from now), changes its timing, and audits each change", async () => {
    const { schedule } = (await (await create(owner, { ...daily, name: "Toggle" })).json()) as { schedule: ScheduleView };
    const patch = async (body: Record<string, unknown>) => {
      const response = await call("PATCH", `/api/agents/ada/schedules/${schedule.id}`, { token: owner.token, body });
      expect(response.status, await response.clone().text()).toBe(200);
      return ((await response.json()) as { schedule: ScheduleView }).schedule;
    };
    expect(await patch({ enabled: false })).toMatchObject({ enabled: false, nextFireAt: null });
    clock = new Date("2026-12-03T10:20:00Z");
    expect(await patch({ kind: "every", everyMinutes: 30 })).toMatchObject({ kind: "every", cron: null, everyMinutes: 30, enabled: false, nextFireAt: null });
    clock = new Date("2026-12-03T10:25:00Z");
    expect(await patch({ enabled: true })).toMatchObject({ enabled: true, nextFireAt: "2026-12-03T10:55:00.000Z" });
    expect(await patch({ sessionMode: "new" })).toMatchObject({ sessionMode: "new", sessionKey: null });
    expect(await errorOf(await call("PATCH", `/api/agents/ada/schedules/${schedule.id}`, { token: owner.token, body: { kind: "cron" } }))).toMatchObject({ code: "invalid_schedule" });
    const audit = await withTenant(platform.database.db, owner.tenantId, (trx) =>
      trx.selectFrom("audit_log").select("action").where("target", "=", `ada/${schedule.id}`).orderBy("seq").execute(),
    );
    expect(audit.map((entry) => entry.action)).toEqual(["schedule.create", "schedule.disable", "schedule.update", "schedule.enable", "schedule.update"]);
    await call("DELETE", `/api/agents/ada/schedules/${schedule.id}`, { token: owner.token });
  });

  it("pages the firing history newest first", async () => {
    const { schedule } = (await (await create(owner, { ...daily, name: "Paged" })).json()) as { schedule: ScheduleView };
    await withSystem(platform.database.system, (trx) =>
      trx
        .insertInto("schedule_firings")
        .values(Array.from({ length: 25 }, (_, index) => ({ tenant_id: owner.tenantId, schedule_id: schedule.id, scheduled_for: new Date(Date.UTC(2026, 10, index + 1, 8)), status: "completed" as const })))
        .execute(),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (await call("GET", `/api/agents/ada/schedules/${schedule.id}/firings?limit=10${cursor ? `&cursor=${cursor}` : ""}`, { token: member.token })).json()) as {
        firings: ScheduleFiring[];
        nextCursor: string | null;
      };
      seen.push(...page.firings.map((firing) => firing.scheduledFor));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(25);
    expect(seen[0]).toBe("2026-11-25T08:00:00.000Z");
    expect(seen[24]).toBe("2026-11-01T08:00:00.000Z");
    expect(await errorOf(await call("GET", `/api/agents/ada/schedules/${schedule.id}/firings?cursor=bogus`, { token: member.token }))).toMatchObject({ status: 400 });
    await call("DELETE", `/api/agents/ada/schedules/${schedule.id}`, { token: owner.token });
  });

  it("caps the schedules an agent may have", async () => {
    await withSystem(platform.database.system, (trx) =>
      trx
        .insertInto("schedules")
        .values(
          Array.from({ length: MAX_SCHEDULES_PER_AGENT }, (_, index) => ({
            tenant_id: owner.tenantId,
            agent_slug: "ada",
            name: `Filler ${index}`,
            kind: "every" as const,
            every_seconds: 3_600,
            timezone: "UTC",
            message: "Fill",
            session_mode: "new" as const,
            enabled: false,
            created_by: owner.userId,
            updated_by: owner.userId,
          })),
        )
        .execute(),
    );
    expect(await errorOf(await create(owner, daily))).toMatchObject({ status: 409, code: "schedule_limit_reached", message: expect.stringContaining(`${MAX_SCHEDULES_PER_AGENT} schedules`) });
    await withSystem(platform.database.system, (trx) => trx.deleteFrom("schedules").where("tenant_id", "=", owner.tenantId).where("name", "like", "Filler %").execute());
  });

  it("goes with its agent", async () => {
    expect((await call("POST", "/api/agents", { token: owner.token, body: { name: "Temp", role: "Helper" } })).status).toBe(201);
    expect((await create(owner, daily, "temp")).status).toBe(201);
    expect((await call("DELETE", "/api/agents/temp", { token: owner.token })).status).toBe(204);
    const left = await withSystem(platform.database.system, (trx) => trx.selectFrom("schedules").select("id").where("agent_slug", "=", "temp").execute());
    expect(left).toEqual([]);
  });
});
