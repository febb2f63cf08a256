import { withSystem, withTenant } from "../db/scopes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { sendMessage } from "../test-support/send-message";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../test-support/test-platform";

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let alice: { token: string; userId: string; tenantId: string };
let bob: { token: string; userId: string; tenantId: string };
let bobsColleague: { token: string; userId: string; tenantId: string };
const b = { runId: "", sessionKey: "", invitationId: "", keyId: "", keySecret: "", scheduleId: "", approvalId: "", webhookId: "", deliveryId: "" };

async function snapshotOfB() {
  return withSystem(platform.database.system, async (db) => ({
    agents: await db.selectFrom("agents").selectAll().where("tenant_id", "=", bob.tenantId).execute(),
    members: await db.selectFrom("memberships").selectAll().where("tenant_id", "=", bob.tenantId).orderBy("user_id").execute(),
    invitations: await db.selectFrom("invitations").select(["id", "revoked_at"]).where("tenant_id", "=", bob.tenantId).execute(),
    keys: await db.selectFrom("api_keys").select(["id", "revoked_at"]).where("tenant_id", "=", bob.tenantId).execute(),
    tenant: await db.selectFrom("tenants").selectAll().where("id", "=", bob.tenantId).execute(),
    budget: await db.selectFrom("tenant_budgets").selectAll().where("tenant_id", "=", bob.tenantId).execute(),
    sessionOwners: await db.selectFrom("session_owners").selectAll().where("tenant_id", "=", bob.tenantId).execute(),
    secrets: await db.selectFrom("tenant_secrets").selectAll().where("tenant_id", "=", bob.tenantId).execute(),
    schedules: await db.selectFrom("schedules").selectAll().where("tenant_id", "=", bob.tenantId).execute(),
    firings: await db.selectFrom("schedule_firings").selectAll().where("tenant_id", "=", bob.tenantId).execute(),
    heartbeats: await db.selectFrom("agent_heartbeats").selectAll().where("tenant_id", "=", bob.tenantId).execute(),
    approvals: await db.selectFrom("approvals").selectAll().where("tenant_id", "=", bob.tenantId).execute(),
    toolModes: await db.selectFrom("agent_tool_modes").selectAll().where("tenant_id", "=", bob.tenantId).execute(),
    webhooks: await db.selectFrom("webhook_endpoints").selectAll().where("tenant_id", "=", bob.tenantId).execute(),
    webhookDeliveries: await db.selectFrom("webhook_deliveries").selectAll().where("tenant_id", "=", bob.tenantId).execute(),
  }));
}

beforeAll(async () => {
  gateway = await startFakeGateway();
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  call = caller(platform);
  alice = await signUp(platform, "alice@example.com");
  bob = await signUp(platform, "bob@example.com");
  bobsColleague = await signUp(platform, "carl@example.com");
  await call("POST", "/api/agents", { token: bob.token, body: { name: "Bob", role: "Builder" } });
  const run = await sendMessage(call, { token: bob.token, agent: "bob", message: "hi" });
  b.runId = run.runId!;
  b.sessionKey = run.sessionKey!;
  b.approvalId = gateway.pauseRun(bob.tenantId, "bob", b.sessionKey, { tool: "write_file", input: { path: "plans.md" } }).approvalId;
  await platform.ingest.sync(bob.tenantId);
  expect((await call("PUT", "/api/agents/bob/tool-modes", { token: bob.token, body: { modes: { write_file: "ask" } } })).status).toBe(200);
  const invitation = await call("POST", "/api/invitations", { token: bob.token, body: { email: "carl@example.com", role: "member" } });
  b.invitationId = ((await invitation.json()) as { invitation: { id: string } }).invitation.id;
  const key = await call("POST", "/api/keys", { token: bob.token, body: { name: "bob's key" } });
  const keyBody = (await key.json()) as { key: { id: string }; secret: string };
  b.keyId = keyBody.key.id;
  b.keySecret = keyBody.secret;
  await call("POST", "/api/agents", { token: alice.token, body: { name: "Alice", role: "Analyst" } });
  const schedule = await call("POST", "/api/agents/bob/schedules", { token: bob.token, body: { name: "Nightly", kind: "cron", cron: "0 2 * * *", message: "Tidy up", sessionMode: "new" } });
  b.scheduleId = ((await schedule.json()) as { schedule: { id: string } }).schedule.id;
  const heartbeat = await call("PUT", "/api/agents/bob/heartbeat", { token: bob.token, body: { enabled: true, content: "- Check the build" } });
  expect(heartbeat.status).toBe(200);
  const webhook = await call("POST", "/api/webhooks", { token: bob.token, body: { url: "https://hooks.example/bob" } });
  b.webhookId = ((await webhook.json()) as { endpoint: { id: string } }).endpoint.id;
  const delivery = await call("POST", `/api/webhooks/${b.webhookId}/test`, { token: bob.token });
  b.deliveryId = ((await delivery.json()) as { delivery: { id: string } }).delivery.id;
  await withTenant(platform.database.db, bob.tenantId, (trx) =>
    platform.secrets.put(trx, bob.tenantId, { name: "model-key/anthropic", kind: "model-key", value: "sk-ant-bobs-own-key-0001", userId: bob.userId }),
  );
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

describe("isolation matrix: tenant A using tenant B's ids", () => {
  it("gets 404 (or 403 for B's tenant id) everywhere and changes nothing in B", async () => {
    const before = await snapshotOfB();
    const requestsBefore = gateway.requests.length;
    const attempts: [string, string, unknown, number[]][] = [
      ["GET", "/api/agents/bob", undefined, [404]],
      ["PATCH", "/api/agents/bob", { name: "Hacked" }, [404]],
      ["DELETE", "/api/agents/bob", undefined, [404]],
      ["GET", "/api/agents/bob/sessions", undefined, [404]],
      ["GET", `/api/agents/bob/sessions/${b.sessionKey}`, undefined, [404]],
      ["GET", `/api/agents/bob/sessions/${b.sessionKey}/export?format=markdown`, undefined, [404]],
      ["GET", `/api/agents/bob/sessions/${b.sessionKey}/attachments/notes`, undefined, [404]],
      ["PATCH", `/api/agents/bob/sessions/${b.sessionKey}`, { title: "Hacked" }, [404]],
      ["DELETE", `/api/agents/bob/sessions/${b.sessionKey}`, undefined, [404]],
      ["POST", "/api/agents/bob/messages", { message: "hi", sessionKey: b.sessionKey }, [404]],
      ["POST", "/api/agents/bob/messages", { message: "hi" }, [404]],
      ["GET", `/api/runs/${b.runId}/events?after=0`, undefined, [404]],
      ["POST", `/api/runs/${b.runId}/abort`, undefined, [404]],
      ["DELETE", `/api/invitations/${b.invitationId}`, undefined, [404]],
      ["DELETE", `/api/keys/${b.keyId}`, undefined, [404]],
      ["PATCH", `/api/members/${bob.userId}`, { role: "member" }, [404]],
      ["DELETE", `/api/members/${bob.userId}`, undefined, [404]],
      // B's schedule, under B's agent and under A's own agent.
      ["GET", "/api/agents/bob/schedules", undefined, [404]],
      ["POST", "/api/agents/bob/schedules", { name: "x", kind: "every", everyMinutes: 5, message: "hi", sessionMode: "new" }, [404]],
      ["GET", "/api/agents/bob/schedule-firings", undefined, [404]],
      ...(["bob", "alice"] as const).flatMap((agent): [string, string, unknown, number[]][] => [
        ["GET", `/api/agents/${agent}/schedules/${b.scheduleId}`, undefined, [404]],
        ["PATCH", `/api/agents/${agent}/schedules/${b.scheduleId}`, { enabled: false }, [404]],
        ["DELETE", `/api/agents/${agent}/schedules/${b.scheduleId}`, undefined, [404]],
        ["POST", `/api/agents/${agent}/schedules/${b.scheduleId}/run`, undefined, [404]],
        ["GET", `/api/agents/${agent}/schedules/${b.scheduleId}/firings`, undefined, [404]],
      ]),
      ["GET", "/api/agents/bob/heartbeat", undefined, [404]],
      ["PUT", "/api/agents/bob/heartbeat", { enabled: false, content: "hacked" }, [404]],
      ["POST", "/api/agents/bob/heartbeat/run", undefined, [404]],
      ["GET", `/api/approvals/${b.approvalId}`, undefined, [404]],
      ["POST", `/api/approvals/${b.approvalId}/approve`, {}, [404]],
      ["POST", `/api/approvals/${b.approvalId}/deny`, { reason: "no" }, [404]],
      ["GET", "/api/agents/bob/tool-modes", undefined, [404]],
      ["PUT", "/api/agents/bob/tool-modes", { modes: { write_file: "allow" } }, [404]],
      ["GET", `/api/webhooks/${b.webhookId}`, undefined, [404]],
      ["PATCH", `/api/webhooks/${b.webhookId}`, { enabled: false }, [404]],
      ["DELETE", `/api/webhooks/${b.webhookId}`, undefined, [404]],
      ["POST", `/api/webhooks/${b.webhookId}/rotate-secret`, {}, [404]],
      ["POST", `/api/webhooks/${b.webhookId}/test`, undefined, [404]],
      ["GET", `/api/webhooks/${b.webhookId}/deliveries`, undefined, [404]],
      ["POST", `/api/webhooks/${b.webhookId}/deliveries/${b.deliveryId}/redeliver`, undefined, [404]],
      ["GET", "/api/agents", undefined, [200]],
      ["GET", "/api/models", undefined, [200]],
    ];
    for (const [method, path, body, statuses] of attempts) {
      const response = await call(method, path, { token: alice.token, body });
      expect({ method, path, status: response.status }).toEqual({ method, path, status: expect.toSatisfy((s: number) => statuses.includes(s)) });
      await response.text();
    }
    // Naming B's tenant outright is refused before anything reaches the gateway.
    for (const [method, path] of [
      ["GET", "/api/agents"],
      ["GET", "/api/models"],
      ["GET", "/api/members"],
      ["GET", "/api/keys"],
      ["PATCH", "/api/tenant"],
      ["GET", "/api/audit"],
      ["GET", "/api/secrets"],
      ["GET", "/api/webhooks"],
      ["POST", "/api/webhooks"],
      ["GET", "/api/budget"],
      ["PUT", "/api/budget"],
      ["GET", "/api/stream/stats"],
      ["GET", "/api/approvals"],
      ["GET", "/api/approvals/count"],
      ["GET", "/api/tenant/export"],
      ["DELETE", "/api/tenant"],
    ] as const) {
      const bodies: Record<string, unknown> = { PATCH: { name: "x" }, PUT: { monthlyTokens: 0 }, POST: { url: "https://hooks.example/alice" }, DELETE: { confirm: "bob's organisation" } };
      const response = await call(method, path, { token: alice.token, headers: { "x-tenant-id": bob.tenantId }, body: bodies[method] });
      expect({ path, status: response.status }).toEqual({ path, status: 403 });
    }
    expect(gateway.requests.slice(requestsBefore).every((request) => request.tenantId !== bob.tenantId)).toBe(true);
    const after = await snapshotOfB();
    expect(after).toEqual(before);
    expect(before.approvals).toEqual([expect.objectContaining({ id: b.approvalId, status: "pending" })]);
    // A's lists hold none of B's approvals.
    expect(((await (await call("GET", "/api/approvals?status=all", { token: alice.token })).json()) as { approvals: unknown[] }).approvals).toEqual([]);
    // B's key still works.
    expect((await call("GET", "/api/agents", { token: b.keySecret })).status).toBe(200);
  });

  it("shows A none of B's secrets, and B its own by name only", async () => {
    const own = (await (await call("GET", "/api/secrets", { token: alice.token })).json()) as { secrets: unknown[] };
    expect(own.secrets).toEqual([]);
    const response = await call("GET", "/api/secrets", { token: bob.token });
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      secrets: [
        expect.objectContaining({ name: "model-key/anthropic", kind: "model-key", hint: "…0001", updatedBy: { userId: bob.userId, email: "bob@example.com" } }),
        expect.objectContaining({ name: `webhook/${b.webhookId}/signing`, kind: "webhook", hint: expect.stringMatching(/^….{4}$/) }),
      ],
    });
    expect(text).not.toContain("bobs-own-key");
    expect(text).not.toContain("whsec_");
    // B's own API key is refused: listing secrets is for signed-in owners and admins.
    expect((await call("GET", "/api/secrets", { token: b.keySecret })).status).toBe(403);
  });

  it("finds none of B's chats when A searches everyone's, though B finds them", async () => {
    // B's chat as the index job writes it (the fake gateway runs no jobs).
    await withTenant(platform.database.db, bob.tenantId, (trx) =>
      trx
        .insertInto("session_search")
        .values({ tenant_id: bob.tenantId, agent_slug: "bob", session_key: b.sessionKey, title: "Merger plans", body: "The zanzibar merger closes Friday.", message_count: 2, session_updated_at: new Date(), indexed_at: new Date() })
        .execute(),
    );
    const asAlice = (await (await call("GET", "/api/search?q=zanzibar&owner=all", { token: alice.token })).json()) as { results: unknown[] };
    expect(asAlice.results).toEqual([]);
    // Alice naming B's organisation is refused before anything is searched.
    expect((await call("GET", "/api/search?q=zanzibar", { token: alice.token, headers: { "x-tenant-id": bob.tenantId } })).status).toBe(403);
    const asBob = (await (await call("GET", "/api/search?q=zanzibar&owner=all", { token: bob.token })).json()) as { results: { title: string }[] };
    expect(asBob.results.map((result) => result.title)).toEqual(["Merger plans"]);
    // Row-level security holds even for a query that names B's rows: A's transaction sees none.
    const seen = await withTenant(platform.database.db, alice.tenantId, (trx) => trx.selectFrom("session_search").select("session_key").where("tenant_id", "=", bob.tenantId).execute());
    expect(seen).toEqual([]);
  });

  it("does not let B's invitation be accepted by someone else", async () => {
    const stored = await withSystem(platform.database.system, (trx) => trx.selectFrom("invitations").select("email").where("id", "=", b.invitationId).executeTakeFirstOrThrow());
    expect(stored.email).toBe("carl@example.com");
    const aliceList = (await (await call("GET", "/api/invitations", { token: alice.token })).json()) as { invitations: unknown[] };
    expect(aliceList.invitations).toEqual([]);
    const members = (await (await call("GET", "/api/members", { token: bobsColleague.token })).json()) as { members: { email: string }[] };
    expect(members.members.map((member) => member.email)).toEqual(["carl@example.com"]);
  });
});
