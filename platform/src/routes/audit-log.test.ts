import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { sendMessage } from "../test-support/send-message";
import { caller, createTestPlatform, errorOf, joinAs, signUp, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";
import type { AuditEntryView } from "./audit-log";

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let owner: { token: string; userId: string; tenantId: string };
let stranger: { token: string; userId: string; tenantId: string };

beforeAll(async () => {
  gateway = await startFakeGateway();
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  call = caller(platform);
  owner = await signUp(platform, "olga@example.com");
  stranger = await signUp(platform, "sven@example.com");
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

async function expectStatus(response: Response | Promise<Response>, status: number): Promise<Response> {
  const resolved = await response;
  expect(resolved.status, await resolved.clone().text()).toBe(status);
  return resolved;
}

/** Every page of the audit log, following nextCursor. */
async function allEntries(pageSize: number, filter = ""): Promise<{ entries: AuditEntryView[]; pages: number }> {
  const entries: AuditEntryView[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query = `?limit=${pageSize}${cursor ? `&cursor=${cursor}` : ""}${filter}`;
    const response = await expectStatus(call("GET", `/api/audit${query}`, { token: owner.token }), 200);
    const page = (await response.json()) as { entries: AuditEntryView[]; nextCursor: string | null };
    entries.push(...page.entries);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor);
  return { entries, pages };
}

describe("audit log", () => {
  it("records every change and failed sign-in in the organisation, and pages through them newest first", async () => {
    const admin = await joinAs(platform, owner, "adam@example.com", "admin");
    const member = await joinAs(platform, owner, "mia@example.com", "member");
    await expectStatus(call("POST", "/api/agents", { token: owner.token, body: { name: "Ada", role: "Analyst" } }), 201);
    await expectStatus(call("PATCH", "/api/agents/ada", { token: owner.token, body: { role: "Chief analyst" } }), 200);
    const { sessionKey } = await sendMessage(call, { token: owner.token, agent: "ada" });
    await expectStatus(call("PATCH", `/api/agents/ada/sessions/${sessionKey}`, { token: owner.token, body: { title: "Renamed" } }), 200);
    await expectStatus(call("DELETE", `/api/agents/ada/sessions/${sessionKey}`, { token: owner.token }), 204);
    await expectStatus(call("DELETE", "/api/agents/ada", { token: owner.token }), 204);
    const invitation = await expectStatus(call("POST", "/api/invitations", { token: owner.token, body: { email: "ivy@example.com" } }), 201);
    const invitationId = ((await invitation.json()) as { invitation: { id: string } }).invitation.id;
    await expectStatus(call("DELETE", `/api/invitations/${invitationId}`, { token: owner.token }), 204);
    const key = await expectStatus(call("POST", "/api/keys", { token: owner.token, body: { name: "ci" } }), 201);
    const keyId = ((await key.json()) as { key: { id: string } }).key.id;
    await expectStatus(call("DELETE", `/api/keys/${keyId}`, { token: owner.token }), 204);
    await expectStatus(call("PUT", "/api/budget", { token: owner.token, body: { monthlyTokens: 1000 } }), 200);
    await expectStatus(call("PATCH", "/api/tenant", { token: owner.token, body: { name: "Olga & co" } }), 200);
    await expectStatus(call("PATCH", `/api/members/${member.userId}`, { token: owner.token, body: { role: "admin" } }), 200);
    await expectStatus(call("DELETE", `/api/members/${member.userId}`, { token: owner.token }), 204);
    await expectStatus(call("DELETE", `/api/members/${admin.userId}`, { token: admin.token, headers: { "x-tenant-id": owner.tenantId } }), 204);
    const failed = await platform.app.request(`${TEST_ORIGIN}/auth/v1/token?grant_type=password`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "olga@example.com", password: "wrong password" }),
    });
    expect(failed.status).toBe(400);

    const { entries, pages } = await allEntries(4);
    expect(pages).toBeGreaterThan(4);
    expect(new Set(entries.map((entry) => entry.id)).size).toBe(entries.length);
    expect(entries.map((entry) => entry.action)).toEqual([
      "auth.sign_in_failed",
      "member.leave",
      "member.remove",
      "member.role_change",
      "tenant.rename",
      "budget.update",
      "api_key.revoke",
      "api_key.create",
      "invitation.revoke",
      "invitation.create",
      "agent.delete",
      "session.delete",
      "session.rename",
      "agent.update",
      "agent.create",
      "invitation.accept",
      "invitation.create",
      "invitation.accept",
      "invitation.create",
      "tenant.create",
    ]);
    expect(entries[0]).toMatchObject({ target: owner.userId, actor: { type: "user", id: null, email: null }, details: { email: "olga@example.com" } });
    expect(entries.find((entry) => entry.action === "agent.create")).toMatchObject({ target: "ada", actor: { type: "user", id: owner.userId, email: "olga@example.com" } });
    expect(entries.find((entry) => entry.action === "member.leave")).toMatchObject({ target: admin.userId, actor: { id: admin.userId } });
    expect(entries.find((entry) => entry.action === "api_key.revoke")?.target).toBe(keyId);
  });

  it("filters by action or by noun", async () => {
    const agents = await allEntries(50, "&action=agent.");
    expect(agents.entries.map((entry) => entry.action)).toEqual(["agent.delete", "agent.update", "agent.create"]);
    const keys = await allEntries(50, "&action=api_key.create");
    expect(keys.entries.map((entry) => entry.action)).toEqual(["api_key.create"]);
  });

  it("filters by who acted and by a time window, together with the action", async () => {
    const everything = await allEntries(100);
    const byOwner = await allEntries(3, `&actor=${owner.userId}`);
    expect(byOwner.entries.length).toBeGreaterThan(3);
    expect(byOwner.entries.every((entry) => entry.actor.id === owner.userId)).toBe(true);
    expect(byOwner.entries.length).toBeLessThan(everything.entries.length);
    const ownersAgents = await allEntries(50, `&actor=${owner.userId}&action=agent.`);
    expect(ownersAgents.entries.map((entry) => entry.action)).toEqual(["agent.delete", "agent.update", "agent.create"]);

    const created = everything.entries.find((entry) => entry.action === "agent.update")!.createdAt;
    const since = await allEntries(100, `&since=${encodeURIComponent(created)}`);
    expect(since.entries.length).toBeGreaterThan(0);
    expect(since.entries.every((entry) => entry.createdAt >= created)).toBe(true);
    const until = await allEntries(100, `&until=${encodeURIComponent(created)}`);
    expect(until.entries.every((entry) => entry.createdAt < created)).toBe(true);
    expect(since.entries.length + until.entries.length).toBe(everything.entries.length);
    const future = await allEntries(100, `&since=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`);
    expect(future.entries).toEqual([]);

    expect((await errorOf(await call("GET", "/api/audit?actor=olga", { token: owner.token }))).message).toMatch(/^actor:/);
    expect((await errorOf(await call("GET", "/api/audit?since=yesterday", { token: owner.token }))).message).toMatch(/^since:/);
  });

  it("is for owners and admins of the organisation only, and validates its query", async () => {
    const member = await joinAs(platform, owner, "moe@example.com", "member");
    const byMember = await call("GET", "/api/audit", { token: member.token, headers: { "x-tenant-id": owner.tenantId } });
    expect(await errorOf(byMember)).toMatchObject({ status: 403, code: "forbidden" });
    const own = (await (await call("GET", "/api/audit", { token: stranger.token })).json()) as { entries: AuditEntryView[] };
    expect(own.entries.map((entry) => entry.action)).toEqual(["tenant.create"]);
    expect((await errorOf(await call("GET", "/api/audit?limit=0", { token: owner.token }))).message).toMatch(/^limit:/);
    expect((await errorOf(await call("GET", "/api/audit?cursor=abc", { token: owner.token }))).message).toMatch(/^cursor:/);
  });
});
