/**
 * The installation's operator (its first account): lists every organisation with its members,
 * owners and this month's usage, and suspends one. A suspended organisation's members and API
 * keys are refused with the reason, except for taking their data out, deleting it and leaving.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { sendMessage } from "../test-support/send-message";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";
import type { OperatorTenantView } from "./operator";

type Who = { token: string; userId: string; tenantId: string };

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let operator: Who;
let owner: Who;
let member: Who;

beforeAll(async () => {
  gateway = await startFakeGateway({ reply: "Hello there" });
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  call = caller(platform);
  operator = await signUp(platform, "operator@example.com");
  owner = await signUp(platform, "olive@example.com");
  member = await joinAs(platform, owner, "milo@example.com", "member");
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

async function listPage(query = "", token = operator.token): Promise<{ tenants: OperatorTenantView[]; nextCursor: string | null }> {
  const response = await call("GET", `/api/operator/tenants${query}`, { token });
  expect(response.status).toBe(200);
  return (await response.json()) as { tenants: OperatorTenantView[]; nextCursor: string | null };
}

const suspend = (tenantId: string, body: unknown, token = operator.token) => call("PATCH", `/api/operator/tenants/${tenantId}`, { token, body });
const as = (who: Who) => ({ token: who.token, headers: { "x-tenant-id": who.tenantId } });

describe("the operator's list of organisations", () => {
  it("shows members, owners and this month's usage, right after a run", async () => {
    expect((await call("POST", "/api/agents", { ...as(owner), body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
    const run = await sendMessage(call, { ...as(member), agent: "ada", message: "Hi" });
    expect(run.status).toBe(200);

    // Asked at once, before this process's batch of usage would have been written on its own.
    const { tenants } = await listPage();
    const olive = tenants.find((tenant) => tenant.id === owner.tenantId);
    expect(olive).toMatchObject({ name: "olive's organisation", members: 2, owners: ["olive@example.com"], suspended: null });
    expect(olive!.usage).toMatchObject({ runs: 1, monthlyTokens: null });
    // What the organisation itself sees as this month's use.
    const budget = (await (await call("GET", "/api/budget", as(owner))).json()) as { budget: { usedTokens: number } };
    expect(budget.budget.usedTokens).toBeGreaterThan(0);
    expect(olive!.usage.tokens).toBe(budget.budget.usedTokens);

    expect((await call("PUT", "/api/budget", { ...as(owner), body: { monthlyTokens: 5000 } })).status).toBe(200);
    expect((await listPage()).tenants.find((tenant) => tenant.id === owner.tenantId)?.usage.monthlyTokens).toBe(5000);
    expect(tenants.find((tenant) => tenant.id === operator.tenantId)).toMatchObject({ members: 1, owners: ["operator@example.com"], usage: { tokens: 0, runs: 0, monthlyTokens: null } });
  });

  it("pages with nextCursor, oldest first, each organisation once", async () => {
    for (const name of ["Extra one", "Extra two", "Extra three"]) {
      expect((await call("POST", "/api/tenants", { token: operator.token, body: { name } })).status).toBe(201);
    }
    const everything = (await listPage("?limit=200")).tenants.map((tenant) => tenant.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { tenants: OperatorTenantView[]; nextCursor: string | null } = await listPage(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.tenants.length).toBeLessThanOrEqual(2);
      seen.push(...page.tenants.map((tenant) => tenant.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(everything);
    expect(everything.length).toBeGreaterThanOrEqual(5);
  });

  it("is the operator's only: anyone else gets 403 on both routes", async () => {
    for (const who of [owner, member]) {
      expect(await errorOf(await call("GET", "/api/operator/tenants", { token: who.token }))).toMatchObject({ status: 403, code: "forbidden" });
      expect(await errorOf(await suspend(operator.tenantId, { suspended: true }, who.token))).toMatchObject({ status: 403, code: "forbidden" });
    }
    expect((await listPage()).tenants.find((tenant) => tenant.id === operator.tenantId)?.suspended).toBeNull();
  });
});

describe("suspending an organisation", () => {
  it("refuses its members and API keys with the reason, lets them take the data out and leave, and is undone by lifting it", async () => {
    const keyResponse = await call("POST", "/api/keys", { ...as(owner), body: { name: "ci", scopes: ["agents:read", "usage:read"] } });
    const { secret } = (await keyResponse.json()) as { secret: string };
    expect((await call("GET", "/api/agents", { token: secret })).status).toBe(200);

    const suspended = await suspend(owner.tenantId, { suspended: true, reason: "Unpaid invoice" });
    expect(suspended.status).toBe(200);
    expect(((await suspended.json()) as { tenant: { suspended: { reason: string } } }).tenant.suspended).toMatchObject({ reason: "Unpaid invoice" });

    const refusedRequests = [
      () => call("GET", "/api/agents", as(member)),
      () => call("GET", "/api/usage", as(member)),
      () => call("POST", "/api/agents/ada/messages", { ...as(member), body: { message: "Hi" } }),
      () => call("GET", "/api/agents", as(owner)),
      () => call("GET", "/api/agents", { token: secret }),
    ];
    for (const request of refusedRequests) {
      const error = await errorOf(await request());
      expect(error).toMatchObject({ status: 403, code: "tenant_suspended" });
      expect(error.message).toContain("Unpaid invoice");
    }
    const me = (await (await call("GET", "/api/me", { token: member.token })).json()) as { tenants: { id: string; suspended: boolean }[] };
    expect(me.tenants.find((tenant) => tenant.id === owner.tenantId)?.suspended).toBe(true);
    expect((await listPage()).tenants.find((tenant) => tenant.id === owner.tenantId)?.suspended).toMatchObject({ reason: "Unpaid invoice" });

    // Taking the data out still works.
    const exported = await call("GET", "/api/tenant/export", as(owner));
    expect(exported.status).toBe(200);
    expect(((await exported.json()) as { tenant: { id: string } }).tenant.id).toBe(owner.tenantId);

    const lifted = await suspend(owner.tenantId, { suspended: false, suspendedReason: null });
    expect(((await lifted.json()) as { tenant: { suspended: unknown } }).tenant.suspended).toBeNull();
    expect((await call("GET", "/api/agents", as(member))).status).toBe(200);
    expect((await call("GET", "/api/agents", { token: secret })).status).toBe(200);

    const log = (await (await call("GET", "/api/audit?action=tenant.", as(owner))).json()) as { entries: { action: string; actor: { id: string }; details: Record<string, unknown> }[] };
    expect(log.entries.filter((entry) => entry.action.includes("suspend"))).toEqual([
      expect.objectContaining({ action: "tenant.unsuspend", actor: expect.objectContaining({ id: operator.userId }) }),
      expect.objectContaining({ action: "tenant.suspend", details: { reason: "Unpaid invoice" } }),
    ]);
  });

  it("still lets a member leave and the owner delete the organisation", async () => {
    const boss = await signUp(platform, "boss@example.com");
    const worker = await joinAs(platform, boss, "worker@example.com", "member");
    expect((await suspend(boss.tenantId, { suspended: true, reason: "Abuse report" })).status).toBe(200);

    expect((await call("DELETE", `/api/members/${worker.userId}`, as(worker))).status).toBe(204);
    const deleted = await call("DELETE", "/api/tenant", { ...as(boss), body: { confirm: "boss's organisation" } });
    expect(deleted.status).toBe(200);
    expect((await listPage("?limit=200")).tenants.map((tenant) => tenant.id)).not.toContain(boss.tenantId);
  });

  it("answers 404 for an organisation that does not exist", async () => {
    expect(await errorOf(await suspend("00000000-0000-4000-8000-000000000000", { suspended: true }))).toMatchObject({ status: 404 });
    expect(await errorOf(await suspend("not-a-uuid", { suspended: true }))).toMatchObject({ status: 404 });
  });
});
