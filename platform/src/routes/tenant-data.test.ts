import { sql } from "kysely";
import { recordTenantEvent } from "../jobs/tenant-events";
import { withSystem, withTenant } from "../db/scopes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantExport } from "../tenant-export";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { sendMessage } from "../test-support/send-message";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";

let gateway: FakeGateway;
let erasingGateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let owner: { token: string; userId: string; tenantId: string };
let admin: { token: string; userId: string; tenantId: string };
let bob: { token: string; userId: string; tenantId: string };
let keySecret: string;
let sessionKey: string;

beforeAll(async () => {
  gateway = await startFakeGateway({ reply: "Exported words" });
  erasingGateway = await startFakeGateway({ tenantDeletion: true });
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  call = caller(platform);
  owner = await signUp(platform, "olga@example.com");
  admin = await joinAs(platform, owner, "adam@example.com", "admin");
  bob = await signUp(platform, "bob@example.com");
  await call("POST", "/api/agents", { token: owner.token, body: { name: "Ada", role: "Analyst" } });
  await call("POST", "/api/agents", { token: bob.token, body: { name: "Bob", role: "Builder" } });
  sessionKey = (await sendMessage(call, { token: owner.token, agent: "ada", message: "Remember this" })).sessionKey!;
  await call("POST", "/api/agents/ada/schedules", { token: owner.token, body: { name: "Weekly digest", kind: "cron", cron: "0 8 * * 1", timezone: "Europe/London", message: "Digest the week", sessionKey: "digest" } });
  await call("PUT", "/api/budget", { token: owner.token, body: { monthlyTokens: 5000 } });
  expect((await call("PUT", "/api/agents/ada/heartbeat", { token: owner.token, body: { enabled: true, everyMinutes: 45, content: "- Look at the inbox" } })).status).toBe(200);
  await call("POST", "/api/invitations", { token: owner.token, body: { email: "ivy@example.com" } });
  keySecret = ((await (await call("POST", "/api/keys", { token: owner.token, body: { name: "ci" } })).json()) as { secret: string }).secret;
  for (const [tenantId, value] of [
    [owner.tenantId, "sk-ant-olgas-own-key-0001"],
    [bob.tenantId, "sk-ant-bobs-own-key-0002"],
  ] as const) {
    await withTenant(platform.database.db, tenantId, (trx) => platform.secrets.put(trx, tenantId, { name: "model-key/anthropic", kind: "model-key", value }));
  }
  await withTenant(platform.database.db, owner.tenantId, (trx) =>
    platform.secrets.put(trx, owner.tenantId, { name: "mcp/linear/headers", kind: "mcp-headers", value: '{"authorization":"Bearer lin-olga-0003"}', userId: owner.userId }),
  );
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
  await erasingGateway.close();
});

/** Rows of the organisation in every table that has a tenant_id column (so tables added later are covered too), and its tenants row. */
async function rowsOf(tenantId: string): Promise<Record<string, number>> {
  return withSystem(platform.database.system, async (db) => {
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.columns
      where column_name = 'tenant_id' and table_schema = current_schema() order by table_name`.execute(db);
    const counts: Record<string, number> = { tenants: (await db.selectFrom("tenants").select("id").where("id", "=", tenantId).execute()).length };
    for (const { table_name: table } of tables.rows) {
      counts[table] = Number((await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)} where tenant_id = ${tenantId}`.execute(db)).rows[0]?.n ?? 0);
    }
    return counts;
  });
}

describe("tenant export", () => {
  it("bundles the organisation's rows and its agents' sessions, without secrets or other tenants", async () => {
    const deadline = Date.now() + 5_000;
    while ((await rowsOf(owner.tenantId)).usage_events === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));

    // A tool call waiting for approval, and a tool mode (issue 15).
    const { approvalId } = gateway.pauseRun(owner.tenantId, "ada", sessionKey, { tool: "write_file", input: { path: "export.md" } });
    await platform.ingest.sync(owner.tenantId);
    expect((await call("PUT", "/api/agents/ada/tool-modes", { token: owner.token, body: { modes: { write_file: "ask" } } })).status).toBe(200);
    for (const tenantId of [owner.tenantId, bob.tenantId]) {
      await withTenant(platform.database.db, tenantId, (trx) => recordTenantEvent(trx, tenantId, { type: "run.failed", data: { runId: `run-of-${tenantId}` }, occurredAt: new Date() }));
    }
    const response = await call("GET", "/api/tenant/export", { token: admin.token, headers: { "x-tenant-id": owner.tenantId } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="workforce-${owner.tenantId}.json"`);
    const text = await response.text();
    const bundle = JSON.parse(text) as TenantExport;
    expect(bundle).toMatchObject({ format: "workforce-tenant-export", version: 1, tenant: { id: owner.tenantId, name: "olga's organisation" } });
    expect(bundle.members.map((member) => [member.email, member.role])).toEqual([
      ["olga@example.com", "owner"],
      ["adam@example.com", "admin"],
    ]);
    expect(bundle.invitations.map((invitation) => invitation.email)).toEqual(["adam@example.com", "ivy@example.com"]);
    expect(bundle.apiKeys).toEqual([expect.objectContaining({ name: "ci", prefix: keySecret.slice(0, 9) })]);
    expect(bundle.budget).toMatchObject({ monthlyTokens: 5000 });
    expect(bundle.usageEvents).toEqual([expect.objectContaining({ agent: "ada", status: "ok", inputTokens: 3 }), expect.objectContaining({ agent: "ada", status: "paused" })]);
    expect(bundle.auditLog.map((entry) => entry.action)).toEqual(["tenant.create", "invitation.create", "invitation.accept", "agent.create", "schedule.create", "budget.update", "heartbeat.update", "invitation.create", "api_key.create", "secret.set", "secret.set", "agent.tool_modes.update"]);
    // Secrets by name and kind only: no value, hint or ciphertext.
    expect(bundle.secrets).toEqual([
      { name: "mcp/linear/headers", kind: "mcp-headers" },
      { name: "model-key/anthropic", kind: "model-key" },
    ]);
    expect(text).not.toMatch(/olgas-own-key|lin-olga|…0001|ciphertext|"v1\./);
    expect(bundle.agents).toHaveLength(1);
    expect(bundle.agents[0]!.agent).toMatchObject({ slug: "ada", name: "Ada" });
    expect(bundle.agents[0]!.sessions.map((session) => session.session.key)).toEqual([sessionKey]);
    expect(bundle.sessionOwners).toEqual([{ agent: "ada", sessionKey, userId: owner.userId, apiKeyId: null, createdAt: expect.any(String) }]);
    expect(bundle.agents[0]!.sessions[0]!.entries.map((entry) => entry.type)).toEqual(["user", "assistant", "tool-result"]);
    expect(bundle.schedules).toEqual([expect.objectContaining({ agent: "ada", name: "Weekly digest", kind: "cron", cron: "0 8 * * 1", timezone: "Europe/London", sessionKey: "digest", createdBy: owner.userId })]);
    expect(bundle.scheduleFirings).toEqual([]);
    expect(bundle.heartbeats).toEqual([expect.objectContaining({ agent: "ada", enabled: true, everyMinutes: 45, enabledBy: owner.userId, counts: { ok: 0, alert: 0, skipped: 0, failed: 0, refused: 0 } })]);
    // The journal read brought in the chat's end and the paused run.
    expect(bundle.events).toEqual([
      expect.objectContaining({ type: "run.completed", data: expect.objectContaining({ sessionKey }) }),
      expect.objectContaining({ type: "approval.required", data: expect.objectContaining({ approvalId }) }),
      expect.objectContaining({ type: "run.failed", data: { runId: `run-of-${owner.tenantId}` } }),
    ]);
    expect(bundle.jobs.map((job) => `${job.kind} ${job.status}`).sort()).toEqual([
      "approvals.expire queued",
      // No webhook endpoint takes the three events, so none waits for a fan-out (issue 17).
      // The chat waits to be indexed for search (issue 16): one job for its runs read together (issue 17).
      "session.index queued",
    ]);
    expect(bundle.approvals).toEqual([expect.objectContaining({ id: approvalId, agent: "ada", sessionKey, tool: "write_file", input: { path: "export.md" }, status: "pending" })]);
    expect(bundle.searchIndex).toEqual([]);
    expect(bundle.toolModes).toEqual([{ agent: "ada", tool: "write_file", mode: "ask", updatedBy: owner.userId, updatedAt: expect.any(String) }]);
    expect(text).not.toContain(keySecret);
    expect(text).not.toMatch(/hash/i);
    expect(text).not.toContain(bob.tenantId);
    expect(text).not.toContain("Builder");

    const audited = await withSystem(platform.database.system, (trx) => trx.selectFrom("audit_log").select("actor_user_id").where("action", "=", "tenant.export").execute());
    expect(audited).toEqual([{ actor_user_id: admin.userId }]);
  });

  it("lists webhook endpoints and their delivery log, never their signing secret", async () => {
    const created = await call("POST", "/api/webhooks", { token: owner.token, body: { url: "https://hooks.example/olga", eventTypes: ["run.failed"] } });
    const { endpoint, secret } = (await created.json()) as { endpoint: { id: string }; secret: string };
    expect((await call("POST", `/api/webhooks/${endpoint.id}/test`, { token: owner.token })).status).toBe(202);
    const response = await call("GET", "/api/tenant/export", { token: owner.token });
    const text = await response.text();
    const bundle = JSON.parse(text) as TenantExport;
    expect(bundle.webhooks.endpoints).toEqual([expect.objectContaining({ id: endpoint.id, url: "https://hooks.example/olga", eventTypes: ["run.failed"], secretHint: `…${secret.slice(-4)}` })]);
    expect(bundle.webhooks.deliveries).toEqual([expect.objectContaining({ endpointId: endpoint.id, eventType: "webhook.test", status: "pending" })]);
    expect(bundle.secrets).toContainEqual({ name: `webhook/${endpoint.id}/signing`, kind: "webhook" });
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice("whsec_".length));
  });

  it("is for owners and admins, not members or API keys", async () => {
    const member = await joinAs(platform, owner, "mia@example.com", "member");
    expect(await errorOf(await call("GET", "/api/tenant/export", { token: member.token, headers: { "x-tenant-id": owner.tenantId } }))).toMatchObject({ status: 403 });
    expect((await call("GET", "/api/tenant/export", { token: keySecret })).status).toBe(403);
  });
});

describe("tenant erasure", () => {
  it("needs the owner and the organisation's name as confirmation", async () => {
    const byAdmin = await call("DELETE", "/api/tenant", { token: admin.token, headers: { "x-tenant-id": owner.tenantId }, body: { confirm: "olga's organisation" } });
    expect(await errorOf(byAdmin)).toMatchObject({ status: 403, code: "forbidden" });
    const missing = await call("DELETE", "/api/tenant", { token: owner.token });
    expect(await errorOf(missing)).toMatchObject({ status: 400, message: expect.stringMatching(/^confirm:/) });
    const wrong = await call("DELETE", "/api/tenant", { token: owner.token, body: { confirm: "bob's organisation" } });
    expect(await errorOf(wrong)).toMatchObject({ status: 400, message: expect.stringContaining("olga's organisation") });
    expect((await rowsOf(owner.tenantId)).tenants).toBe(1);
  });

  it("keeps everything when the gateway cannot be reached, so the owner can try again", async () => {
    const offline = await createTestPlatform({ gatewayUrl: "http://127.0.0.1:9", database: platform.database });
    try {
      const response = await caller(offline)("DELETE", "/api/tenant", { token: owner.token, body: { confirm: "olga's organisation" } });
      expect(await errorOf(response)).toMatchObject({ status: 503, code: "gateway_unavailable" });
    } finally {
      await offline.close();
    }
    expect((await rowsOf(owner.tenantId)).agents).toBe(1);
  });

  it("deletes the gateway's agents and every row of the organisation, and nothing of anyone else", async () => {
    const bobBefore = await rowsOf(bob.tenantId);
    expect((await rowsOf(owner.tenantId)).session_owners).toBe(1);
    // Two integration secrets and a webhook's signing secret.
    expect((await rowsOf(owner.tenantId)).tenant_secrets).toBe(3);
    expect((await rowsOf(owner.tenantId)).webhook_endpoints).toBe(1);
    expect((await rowsOf(owner.tenantId)).webhook_deliveries).toBe(1);
    expect((await rowsOf(owner.tenantId)).schedules).toBe(1);
    // A firing of its schedule (run now).
    const [schedule] = ((await (await call("GET", "/api/agents/ada/schedules", { token: owner.token })).json()) as { schedules: { id: string }[] }).schedules;
    expect((await call("POST", `/api/agents/ada/schedules/${schedule!.id}/run`, { token: owner.token })).status).toBe(202);
    expect((await rowsOf(owner.tenantId)).schedule_firings).toBe(1);
    // What the organisation's agents did on their own: an event and the job that fans it out.
    await withTenant(platform.database.db, owner.tenantId, (trx) => recordTenantEvent(trx, owner.tenantId, { type: "run.completed", data: { runId: "r-1" }, occurredAt: new Date() }));
    expect((await rowsOf(owner.tenantId)).tenant_events).toBeGreaterThan(0);
    expect((await rowsOf(owner.tenantId)).jobs).toBeGreaterThan(0);
    expect((await rowsOf(owner.tenantId)).agent_heartbeats).toBe(1);
    expect(bobBefore.tenant_secrets).toBe(1);
    // The approval and tool mode of the export test: they go with the organisation.
    expect((await rowsOf(owner.tenantId)).approvals).toBeGreaterThan(0);
    expect((await rowsOf(owner.tenantId)).agent_tool_modes).toBeGreaterThan(0);
    const members = (await rowsOf(owner.tenantId)).memberships;
    // What search reads of its chats (issue 16).
    await withTenant(platform.database.db, owner.tenantId, (trx) =>
      trx.insertInto("session_search").values({ tenant_id: owner.tenantId, agent_slug: "ada", session_key: "searched", title: "Searched", body: "text", message_count: 2, session_updated_at: new Date(), indexed_at: new Date() }).execute(),
    );
    expect((await rowsOf(owner.tenantId)).session_search).toBe(1);
    const response = await call("DELETE", "/api/tenant", { token: owner.token, body: { confirm: "olga's organisation" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      deleted: { tenantId: owner.tenantId, organisation: "olga's organisation", agents: 1, members, gatewayData: "agents", erasedAt: expect.any(String) },
    });
    expect(members).toBeGreaterThan(1);
    expect(gateway.requests.filter((request) => request.method === "DELETE").map((request) => [request.path, request.tenantId])).toEqual([
      ["/v1/tenant", owner.tenantId],
      ["/v1/agents/ada", owner.tenantId],
    ]);
    const after = await rowsOf(owner.tenantId);
    expect(Object.keys(after)).toEqual(expect.arrayContaining(["memberships", "agents", "audit_log", "session_owners", "tenant_secrets", "jobs", "tenant_events", "schedules", "schedule_firings", "agent_heartbeats", "approvals", "agent_tool_modes", "webhook_endpoints", "webhook_deliveries", "session_search"]));
    expect(Object.entries(after).filter(([, rows]) => rows > 0)).toEqual([]);
    expect(await rowsOf(bob.tenantId)).toEqual(bobBefore);
    // Bob's secret still decrypts: erasing one organisation touches no other's.
    expect(await withTenant(platform.database.db, bob.tenantId, (trx) => platform.secrets.reveal(trx, bob.tenantId, "model-key/anthropic"))).toBe("sk-ant-bobs-own-key-0002");
    // The people remain, with no organisation left; the former admin still has their own.
    const me = (await (await call("GET", "/api/me", { token: owner.token })).json()) as { tenants: unknown[] };
    expect(me.tenants).toEqual([]);
    const adminMe = (await (await call("GET", "/api/me", { token: admin.token })).json()) as { tenants: { name: string }[] };
    expect(adminMe.tenants.map((tenant) => tenant.name)).toEqual(["adam's organisation"]);
    expect((await call("GET", "/api/agents", { token: keySecret })).status).toBe(401);
  });

  it("asks a gateway that can erase a whole tenant to do so", async () => {
    const second = await createTestPlatform({ gatewayUrl: erasingGateway.url, database: platform.database });
    try {
      const carol = await signUp(second, "carol@example.com");
      await caller(second)("POST", "/api/agents", { token: carol.token, body: { name: "Cy", role: "Writer" } });
      const response = await caller(second)("DELETE", "/api/tenant", { token: carol.token, body: { confirm: "carol's organisation" } });
      expect(await response.json()).toMatchObject({ deleted: { tenantId: carol.tenantId, organisation: "carol's organisation", agents: 1, members: 1, gatewayData: "tenant" } });
      expect(erasingGateway.requests.filter((request) => request.method === "DELETE").map((request) => request.path)).toEqual(["/v1/tenant"]);
      expect((await rowsOf(carol.tenantId)).tenants).toBe(0);
    } finally {
      await second.close();
    }
  });
});
