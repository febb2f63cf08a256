import { withSystem } from "../db/scopes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BudgetView } from "../budgets";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";

const REPLY = "four words of reply";

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let owner: { token: string; userId: string; tenantId: string };
let member: { token: string; userId: string; tenantId: string };
let other: { token: string; userId: string; tenantId: string };

beforeAll(async () => {
  gateway = await startFakeGateway({ reply: REPLY });
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  call = caller(platform);
  owner = await signUp(platform, "olga@example.com");
  member = await joinAs(platform, owner, "max@example.com", "member");
  other = await signUp(platform, "otto@example.com");
  await call("POST", "/api/agents", { token: owner.token, body: { name: "Ada", role: "Analyst" } });
  await call("POST", "/api/agents", { token: other.token, body: { name: "Ada", role: "Analyst" } });
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

async function budgetOf(token: string, tenantId: string): Promise<BudgetView> {
  const response = await call("GET", "/api/budget", { token, headers: { "x-tenant-id": tenantId } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { budget: BudgetView }).budget;
}

async function send(who: { token: string; tenantId: string }): Promise<Response> {
  const response = await call("POST", "/api/agents/ada/messages", { token: who.token, headers: { "x-tenant-id": who.tenantId }, body: { message: "Hello" } });
  if (response.status === 200) await response.text();
  return response;
}

/** Waits until the run's usage is recorded (it is written when run-end passes through). */
async function usageRecorded(tenantId: string, runs: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const rows = await withSystem(platform.database.system, (trx) => trx.selectFrom("usage_events").select("id").where("tenant_id", "=", tenantId).execute());
    if (rows.length >= runs) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("usage was not recorded");
}

describe("monthly token budgets", () => {
  it("has no limit until an owner or admin sets one", async () => {
    const budget = await budgetOf(member.token, owner.tenantId);
    expect(budget).toMatchObject({ monthlyTokens: null, usedTokens: 0, remainingTokens: null, updatedAt: null });
    expect(Date.parse(budget.periodEnd)).toBeGreaterThan(Date.parse(budget.periodStart));
  });

  it("lets only owners and admins set it, and validates the amount naming the field", async () => {
    const byMember = await call("PUT", "/api/budget", { token: member.token, headers: { "x-tenant-id": owner.tenantId }, body: { monthlyTokens: 5 } });
    expect(await errorOf(byMember)).toMatchObject({ status: 403, code: "forbidden" });
    const negative = await call("PUT", "/api/budget", { token: owner.token, body: { monthlyTokens: -1 } });
    expect(await errorOf(negative)).toMatchObject({ status: 400, code: "validation_failed", message: expect.stringMatching(/^monthlyTokens:/) });
    const missing = await call("PUT", "/api/budget", { token: owner.token, body: {} });
    expect((await errorOf(missing)).message).toMatch(/^monthlyTokens:/);
    expect((await budgetOf(owner.token, owner.tenantId)).monthlyTokens).toBeNull();
  });

  it("refuses to send once this month's usage reaches the budget, without calling the gateway", async () => {
    const set = await call("PUT", "/api/budget", { token: owner.token, body: { monthlyTokens: 5 } });
    expect(set.status).toBe(200);
    expect(((await set.json()) as { budget: BudgetView }).budget).toMatchObject({ monthlyTokens: 5, usedTokens: 0, remainingTokens: 5, updatedBy: owner.userId });

    expect((await send(owner)).status).toBe(200);
    await usageRecorded(owner.tenantId, 1);
    const used = await budgetOf(owner.token, owner.tenantId);
    expect(used.usedTokens).toBe(3 + REPLY.split(" ").length);
    expect(used.remainingTokens).toBe(0);

    const runsBefore = gateway.runs.size;
    const refused = await send(member);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const error = await errorOf(refused);
    expect(error.code).toBe("budget_exceeded");
    expect(error.message).toMatch(/monthly token budget is used up/);
    expect(gateway.runs.size).toBe(runsBefore);

    // Another organisation is not affected.
    expect((await send(other)).status).toBe(200);
  });

  it("does not count last month's usage, and lets the owner lift the limit", async () => {
    const lastMonth = new Date();
    lastMonth.setUTCDate(0);
    await withSystem(platform.database.system, (trx) =>
      trx
        .insertInto("usage_events")
        .values({ tenant_id: other.tenantId, agent_slug: "ada", run_id: "old-run", status: "ok", input_tokens: 1_000, output_tokens: 1_000, created_at: lastMonth })
        .execute(),
    );
    await call("PUT", "/api/budget", { token: other.token, body: { monthlyTokens: 100 } });
    await usageRecorded(other.tenantId, 2);
    expect((await budgetOf(other.token, other.tenantId)).usedTokens).toBe(3 + REPLY.split(" ").length);
    expect((await send(other)).status).toBe(200);

    const lifted = await call("PUT", "/api/budget", { token: owner.token, body: { monthlyTokens: null } });
    expect(((await lifted.json()) as { budget: BudgetView }).budget.remainingTokens).toBeNull();
    expect((await send(member)).status).toBe(200);
    const audit = await withSystem(platform.database.system, (trx) =>
      trx.selectFrom("audit_log").select(["action", "details"]).where("tenant_id", "=", owner.tenantId).where("action", "=", "budget.update").orderBy("seq").execute(),
    );
    expect(audit.map((row) => row.details)).toEqual([
      { from: null, to: 5 },
      { from: 5, to: null },
    ]);
  });

  it("also holds the operator's plan cap: below this month's usage it refuses sends of an organisation without a budget of its own", async () => {
    // Olga signed up first: she is the installation's operator.
    const own = await call("PUT", "/api/budget", { token: other.token, headers: { "x-tenant-id": other.tenantId }, body: { monthlyTokens: null } });
    expect(own.status).toBe(200);
    expect((await budgetOf(other.token, other.tenantId)).monthlyTokens).toBeNull();
    const capped = await call("PATCH", `/api/operator/tenants/${other.tenantId}/limits`, { token: owner.token, body: { monthlyTokens: 1 } });
    expect(capped.status).toBe(200);
    const runsBefore = gateway.runs.size;
    const refused = await send(other);
    expect(await errorOf(refused)).toMatchObject({ status: 429, code: "budget_exceeded", message: expect.stringContaining("of 1 tokens") });
    expect(gateway.runs.size).toBe(runsBefore);

    const lifted = await call("PATCH", `/api/operator/tenants/${other.tenantId}/limits`, { token: owner.token, body: { monthlyTokens: null } });
    expect(lifted.status).toBe(200);
    expect((await send(other)).status).toBe(200);
  });
});
