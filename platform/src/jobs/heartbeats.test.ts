/**
 * Heartbeats end to end, in fake time: the platform's job runner (two of them on one database for
 * "exactly once"), the real gateway process, and the fake Anthropic upstream for the model. A due
 * heartbeat fires on time (not before, not outside its active hours), its outcome comes back through
 * the usage journal into the heartbeat's counters, an alert stays in the heartbeat session and
 * becomes a `heartbeat.alert` event, and a refused firing is recorded with its code.
 */
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { HeartbeatView, OwnedSessionHistory, type HeartbeatSettingsUpdate } from "@workforce/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { withSystem, withTenant } from "../db/scopes";
import { startGatewayProcess, type GatewayProcess } from "../test-support/gateway-process";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";
import { HEARTBEAT_FIRE_JOB } from "./heartbeats";
import { tenantEventsAfter } from "./tenant-events";

const HOOK_TOKEN = "heartbeat-hook-token";
const MINUTE = 60_000;
let upstream: FakeUpstream;
let gateway: GatewayProcess;
let platform: TestPlatform;
let second: TestPlatform;
// Fake time, near the real one (tokens are checked against it): whole minutes keep due times readable.
let clock = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
const now = () => clock;
const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "model-key" });
  gateway = await startGatewayProcess({ hookToken: HOOK_TOKEN, env: { ANTHROPIC_API_KEY: "model-key", ANTHROPIC_BASE_URL: upstream.url, WORKFORCE_DEFAULT_MODEL: "claude-fake-1" } });
  platform = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: HOOK_TOKEN, now });
  // A second platform process on the same database, with its own job runner.
  second = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: HOOK_TOKEN, now, database: platform.database });
}, 60_000);
afterAll(async () => {
  await second?.close();
  await platform?.close();
  await gateway?.stop();
  await upstream?.close();
});
afterEach(() => upstream.reset());

let organisations = 0;
/** A fresh organisation with an agent "ada" and an admin, so tests do not see each other's heartbeats. */
async function organisation() {
  organisations += 1;
  const owner = await signUp(platform, `owner${organisations}@heartbeat.example`);
  expect((await caller(platform)("POST", "/api/agents", { token: owner.token, body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
  return owner;
}

async function configure(owner: { token: string }, body: HeartbeatSettingsUpdate): Promise<HeartbeatView> {
  const response = await caller(platform)("PUT", "/api/agents/ada/heartbeat", { token: owner.token, body });
  expect(response.status).toBe(200);
  return HeartbeatView.parse(await response.json());
}

async function view(owner: { token: string }): Promise<HeartbeatView> {
  return HeartbeatView.parse(await (await caller(platform)("GET", "/api/agents/ada/heartbeat", { token: owner.token })).json());
}

async function firings(tenantId: string) {
  return withSystem(platform.database.system, (trx) => trx.selectFrom("jobs").select(["key", "status"]).where("kind", "=", HEARTBEAT_FIRE_JOB).where("tenant_id", "=", tenantId).execute());
}

/** Reads the gateway's journal until the heartbeat has counted `total` outcomes of runs. */
async function outcomesCounted(owner: { token: string; tenantId: string }, total: number): Promise<HeartbeatView> {
  for (let tries = 0; tries < 300; tries += 1) {
    await platform.ingest.sync(owner.tenantId);
    const current = await view(owner);
    const { ok, alert, skipped, failed } = current.counts;
    if (ok + alert + skipped + failed >= total) return current;
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  throw new Error("the heartbeat's outcome never came back");
}

const CHECKLIST = "# Heartbeat\n\n- Read notes/inbox.md and alert me about anything marked URGENT.\n";

describe("heartbeats", () => {
  it("fire when due and not before, answer HEARTBEAT_OK without a trace in the session, and come again a period later", async () => {
    const owner = await organisation();
    const enabled = await configure(owner, { enabled: true, everyMinutes: 30, content: CHECKLIST });
    expect(enabled).toMatchObject({ enabled: true, everyMinutes: 30, sessionKey: "heartbeat", enabledBy: { userId: owner.userId }, file: { content: CHECKLIST, empty: false } });
    expect(enabled.nextDueAt).toBe(new Date(clock.getTime() + 30 * MINUTE).toISOString());

    advance(29 * MINUTE);
    await platform.jobs.runDue();
    expect(await firings(owner.tenantId)).toEqual([]);

    upstream.enqueue({ kind: "text", text: "HEARTBEAT_OK" });
    advance(MINUTE);
    await platform.jobs.runDue();
    expect(await firings(owner.tenantId)).toEqual([{ key: expect.stringContaining(`heartbeat:${owner.tenantId}:ada:`), status: "done" }]);
    const after = await outcomesCounted(owner, 1);
    expect(after).toMatchObject({ counts: { ok: 1, alert: 0, skipped: 0, failed: 0, refused: 0 }, last: { outcome: "ok" }, lastAlert: null });
    expect(after.nextDueAt).toBe(new Date(clock.getTime() + 30 * MINUTE).toISOString());
    // The model saw the checklist; the acknowledgement left nothing in the heartbeat session.
    expect((upstream.requests[0]?.body as { system: string }).system).toContain("notes/inbox.md");
    const session = await caller(platform)("GET", "/api/agents/ada/sessions/heartbeat", { token: owner.token });
    expect(OwnedSessionHistory.parse(await session.json()).entries).toEqual([]);
    await configure(owner, { enabled: false });
  });

  it("keep an alert in the heartbeat session, count it and tell the organisation with a heartbeat.alert event", async () => {
    const owner = await organisation();
    await configure(owner, { enabled: true, everyMinutes: 15, content: CHECKLIST });
    upstream.enqueue({ kind: "text", text: "URGENT: the ACME invoice is overdue." });
    advance(15 * MINUTE);
    await platform.jobs.runDue();
    const after = await outcomesCounted(owner, 1);
    expect(after).toMatchObject({ counts: { ok: 0, alert: 1 }, last: { outcome: "alert" }, lastAlert: { text: "URGENT: the ACME invoice is overdue." } });

    const events = await withTenant(platform.database.db, owner.tenantId, (trx) => tenantEventsAfter(trx, owner.tenantId, 0));
    expect(events.filter((event) => event.type === "heartbeat.alert")).toEqual([
      expect.objectContaining({ data: { heartbeatId: expect.any(String), agent: "ada", sessionKey: "heartbeat", runId: after.lastAlert?.runId, text: "URGENT: the ACME invoice is overdue." } }),
    ]);
    // Reading the journal again changes nothing: counted once, told once.
    await platform.ingest.sync(owner.tenantId);
    expect((await view(owner)).counts.alert).toBe(1);

    const session = OwnedSessionHistory.parse(await (await caller(platform)("GET", "/api/agents/ada/sessions/heartbeat", { token: owner.token })).json());
    expect(session.entries.map((entry) => entry.type)).toEqual(["user", "assistant"]);
    expect(JSON.stringify(session.entries[1])).toContain("URGENT: the ACME invoice is overdue.");
    await configure(owner, { enabled: false });
  });

  it("skip without a model call while HEARTBEAT.md asks for nothing", async () => {
    const owner = await organisation();
    const enabled = await configure(owner, { enabled: true, everyMinutes: 5, content: "# Heartbeat\n\n<!-- nothing to check yet -->\n" });
    expect(enabled.file.empty).toBe(true);
    advance(5 * MINUTE);
    await platform.jobs.runDue();
    expect((await outcomesCounted(owner, 1)).counts).toMatchObject({ skipped: 1, ok: 0 });
    expect(upstream.requests).toHaveLength(0);
    await configure(owner, { enabled: false });
  });

  it("wait outside their active hours for the window to open, in the heartbeat's time zone", async () => {
    const owner = await organisation();
    const local = (hours: number) => new Date(clock.getTime() + hours * 3_600_000).toISOString().slice(11, 16);
    // A window that opened now and closes in 10 minutes (UTC), checked every 5 minutes.
    const window = { start: local(0), end: new Date(clock.getTime() + 10 * MINUTE).toISOString().slice(11, 16) };
    await configure(owner, { enabled: true, everyMinutes: 5, activeHours: window, timeZone: "UTC", content: CHECKLIST });
    upstream.enqueue({ kind: "text", text: "HEARTBEAT_OK" });
    advance(5 * MINUTE);
    await platform.jobs.runDue();
    expect(await firings(owner.tenantId)).toHaveLength(1);
    await outcomesCounted(owner, 1);

    // Due again at the window's end: nothing fires, and the next heartbeat is when it opens tomorrow.
    advance(5 * MINUTE);
    await platform.jobs.runDue();
    expect(await firings(owner.tenantId)).toHaveLength(1);
    expect((await view(owner)).nextDueAt).toBe(new Date(clock.getTime() - 10 * MINUTE + 24 * 3_600_000).toISOString());
    expect(upstream.requests).toHaveLength(1);
    await configure(owner, { enabled: false });
  });

  it("fire once when two platform processes tick at the same time", async () => {
    const owner = await organisation();
    await configure(owner, { enabled: true, everyMinutes: 10, content: CHECKLIST });
    upstream.enqueue({ kind: "text", text: "HEARTBEAT_OK" }, { kind: "text", text: "HEARTBEAT_OK" });
    advance(10 * MINUTE);
    await Promise.all([platform.jobs.runDue(), second.jobs.runDue(), platform.jobs.runDue(), second.jobs.runDue()]);
    expect(await firings(owner.tenantId)).toHaveLength(1);
    expect((await outcomesCounted(owner, 1)).counts.ok).toBe(1);
    const runs = await withTenant(platform.database.db, owner.tenantId, (trx) => trx.selectFrom("usage_events").select("run_id").execute());
    expect(runs).toHaveLength(1);
    expect(upstream.requests).toHaveLength(1);
    await configure(owner, { enabled: false });
  });

  it("record a refused firing with its code, and go on to the next one", async () => {
    const owner = await organisation();
    await configure(owner, { enabled: true, everyMinutes: 20, content: CHECKLIST });
    await withSystem(platform.database.system, (trx) => trx.updateTable("tenants").set({ suspended_at: clock, suspended_reason: "unpaid" }).where("id", "=", owner.tenantId).execute());
    advance(20 * MINUTE);
    await platform.jobs.runDue();
    await withSystem(platform.database.system, (trx) => trx.updateTable("tenants").set({ suspended_at: null, suspended_reason: null }).where("id", "=", owner.tenantId).execute());
    const refused = await view(owner);
    expect(refused).toMatchObject({ counts: { refused: 1, ok: 0 }, last: { outcome: "refused", runId: null, error: { code: "tenant_suspended" } } });
    expect(refused.nextDueAt).toBe(new Date(clock.getTime() + 20 * MINUTE).toISOString());
    expect(upstream.requests).toHaveLength(0);

    // The heartbeat session waits on a member's decision on a tool call (a run paused there): refused, not retried.
    upstream.enqueue({ kind: "tool_use", name: "write_file", input: { path: "x.md", content: "x" } });
    const gatewayHeaders = { authorization: `Bearer ${HOOK_TOKEN}`, "x-tenant-id": owner.tenantId, "content-type": "application/json" };
    const body = JSON.stringify({ message: "Write x.md", sessionKey: "heartbeat", integrations: { toolModes: { write_file: "ask" } } });
    const paused = (await (await fetch(`${gateway.url}/v1/agents/ada/runs`, { method: "POST", headers: gatewayHeaders, body })).json()) as { runId: string };
    const statusOf = async () => ((await (await fetch(`${gateway.url}/v1/runs/${paused.runId}`, { headers: gatewayHeaders })).json()) as { status: string }).status;
    for (let tries = 0; tries < 200 && (await statusOf()) !== "paused"; tries += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    advance(20 * MINUTE);
    await platform.jobs.runDue();
    expect(await view(owner)).toMatchObject({ counts: { refused: 2 }, last: { outcome: "refused", error: { code: "approval_pending" } } });
    expect(await firings(owner.tenantId)).toEqual([expect.objectContaining({ status: "done" }), expect.objectContaining({ status: "done" })]);
    await configure(owner, { enabled: false });
  });

  it("run now for owners and admins, on their behalf; members only read, and bad settings are refused", async () => {
    const owner = await organisation();
    const member = await joinAs(platform, owner, `member${organisations}@heartbeat.example`, "member");
    await configure(owner, { content: CHECKLIST });
    upstream.enqueue({ kind: "text", text: "The inbox has two URGENT mails." });
    const started = await caller(platform)("POST", "/api/agents/ada/heartbeat/run", { token: owner.token });
    expect(started.status).toBe(202);
    const after = await outcomesCounted(owner, 1);
    expect(after).toMatchObject({ enabled: false, counts: { alert: 1 }, lastAlert: { text: "The inbox has two URGENT mails." } });

    const memberView = await caller(platform)("GET", "/api/agents/ada/heartbeat", { headers: { "x-tenant-id": owner.tenantId }, token: member.token });
    expect(HeartbeatView.parse(await memberView.json()).counts.alert).toBe(1);
    expect(await errorOf(await caller(platform)("PUT", "/api/agents/ada/heartbeat", { headers: { "x-tenant-id": owner.tenantId }, token: member.token, body: { enabled: true } }))).toMatchObject({ status: 403 });
    for (const body of [{ everyMinutes: 1 }, { timeZone: "Mars/Olympus" }, { activeHours: { start: "09:00", end: "09:00" } }, { activeHours: { start: "9am", end: "17:00" } }]) {
      expect(await errorOf(await caller(platform)("PUT", "/api/agents/ada/heartbeat", { token: owner.token, body }))).toMatchObject({ status: 400, code: "validation_failed" });
    }
    const audit = await withTenant(platform.database.db, owner.tenantId, (trx) => trx.selectFrom("audit_log").select("action").where("action", "like", "heartbeat.%").orderBy("seq").execute());
    expect(audit.map((row) => row.action)).toEqual(["heartbeat.update", "heartbeat.run"]);
  });
});
