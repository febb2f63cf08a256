/**
 * The operator sets an organisation's plan limits; the change is audited, in force on the
 * gateway before the answer (or as soon as a gateway that was down comes back), and visible,
 * read-only, to the organisation's members. Suspension and budgets reach the gateway the same way.
 */
import { OperatorLimitsView, OrganisationLimitsView, type TenantPolicy } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";
import { freePort } from "../test-support/free-port";
import type { OperatorTenantView } from "./operator";

type Who = { token: string; userId: string; tenantId: string };

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let operator: Who;
let owner: Who;
let member: Who;

beforeAll(async () => {
  gateway = await startFakeGateway();
  platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { tenantDefaults: { maxConcurrentRuns: 3, maxQueuedRuns: 50, diskMb: 100 } } });
  call = caller(platform);
  operator = await signUp(platform, "operator@example.com");
  owner = await signUp(platform, "olive@example.com");
  member = await joinAs(platform, owner, "milo@example.com", "member");
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

const as = (who: Who) => ({ token: who.token, headers: { "x-tenant-id": who.tenantId } });
const limitsPath = (tenantId: string) => `/api/operator/tenants/${tenantId}/limits`;

async function operatorView(tenantId: string): Promise<OperatorLimitsView> {
  const response = await call("GET", limitsPath(tenantId), { token: operator.token });
  expect(response.status).toBe(200);
  return OperatorLimitsView.parse(((await response.json()) as { limits: unknown }).limits);
}

async function patchLimits(tenantId: string, body: unknown, token = operator.token): Promise<Response> {
  return call("PATCH", limitsPath(tenantId), { token, body });
}

/** Waits (bounded) until the gateway holds a policy for the tenant that satisfies `matches`. */
async function gatewayPolicy(fake: FakeGateway, tenantId: string, matches: (policy: TenantPolicy) => boolean): Promise<TenantPolicy> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const policy = fake.policies.get(tenantId);
    if (policy && matches(policy)) return policy;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the gateway never got the expected policy of ${tenantId}: ${JSON.stringify(fake.policies.get(tenantId))}`);
}

describe("an organisation's limits, set by the operator", () => {
  it("start as the installation's defaults, with no token cap beyond the organisation's own budget", async () => {
    const view = await operatorView(owner.tenantId);
    expect(view.overrides).toEqual({ maxConcurrentRuns: null, maxQueuedRuns: null, monthlyTokens: null, diskMb: null, requestsPerMinute: null, maxStreams: null });
    expect(view.defaults).toMatchObject({ maxConcurrentRuns: 3, maxQueuedRuns: 50, diskMb: 100, monthlyTokens: null });
    expect(view.effective).toEqual(view.defaults);
    expect(view.suspended).toBeNull();
  });

  it("change with a PATCH that is in force on the gateway when it answers, and audited in the organisation's log", async () => {
    const response = await patchLimits(owner.tenantId, { maxConcurrentRuns: 2, maxQueuedRuns: 10, diskMb: 5, requestsPerMinute: 30, maxStreams: 2 });
    expect(response.status).toBe(200);
    const view = OperatorLimitsView.parse(((await response.json()) as { limits: unknown }).limits);
    expect(view.effective).toMatchObject({ maxConcurrentRuns: 2, maxQueuedRuns: 10, diskMb: 5, requestsPerMinute: 30, maxStreams: 2 });
    expect(view.updatedBy).toBe(operator.userId);
    expect(view.push.pushedVersion).toBe(view.push.version);
    expect(view.push.lastError).toBeNull();

    expect(gateway.policies.get(owner.tenantId)).toMatchObject({
      version: view.push.version,
      suspended: false,
      limits: { maxConcurrentRuns: 2, maxQueuedRuns: 10, monthlyTokens: null, diskBytes: 5 * 1024 * 1024 },
    });

    const log = (await (await call("GET", "/api/audit?action=limits.", as(owner))).json()) as { entries: { action: string; actor: { id: string }; details: Record<string, unknown> }[] };
    expect(log.entries[0]).toMatchObject({
      action: "limits.update",
      actor: { id: operator.userId },
      details: { from: { maxConcurrentRuns: null, maxQueuedRuns: null }, to: { maxConcurrentRuns: 2, maxQueuedRuns: 10, diskMb: 5 } },
    });
  });

  it("go back to the default with null, leaving the others as they were", async () => {
    const response = await patchLimits(owner.tenantId, { maxConcurrentRuns: null });
    expect(response.status).toBe(200);
    const view = await operatorView(owner.tenantId);
    expect(view.overrides).toMatchObject({ maxConcurrentRuns: null, maxQueuedRuns: 10 });
    expect(view.effective).toMatchObject({ maxConcurrentRuns: 3, maxQueuedRuns: 10 });
    expect(gateway.policies.get(owner.tenantId)?.limits).toMatchObject({ maxConcurrentRuns: 3, maxQueuedRuns: 10 });
  });

  it("cap the organisation's budget: the smaller of the plan's tokens and the budget is in force, on the gateway too", async () => {
    expect((await call("PUT", "/api/budget", { ...as(owner), body: { monthlyTokens: 5_000 } })).status).toBe(200);
    await gatewayPolicy(gateway, owner.tenantId, (policy) => policy.limits.monthlyTokens === 5_000);

    expect((await patchLimits(owner.tenantId, { monthlyTokens: 3_000 })).status).toBe(200);
    expect((await operatorView(owner.tenantId)).monthlyTokens).toEqual({ plan: 3_000, budget: 5_000 });
    expect(gateway.policies.get(owner.tenantId)?.limits.monthlyTokens).toBe(3_000);

    // Lowering the budget below the plan: the budget is what holds.
    expect((await call("PUT", "/api/budget", { ...as(owner), body: { monthlyTokens: 1_000 } })).status).toBe(200);
    await gatewayPolicy(gateway, owner.tenantId, (policy) => policy.limits.monthlyTokens === 1_000);
  });

  it("are shown to every member of the organisation, read-only, and in the operator's list", async () => {
    const response = await call("GET", "/api/limits", as(member));
    expect(response.status).toBe(200);
    const { limits } = (await response.json()) as { limits: unknown };
    expect(OrganisationLimitsView.parse(limits)).toMatchObject({ effective: { maxQueuedRuns: 10, monthlyTokens: 1_000, diskMb: 5 }, monthlyTokens: { plan: 3_000, budget: 1_000 }, suspended: null });
    expect(await errorOf(await call("PATCH", "/api/limits", { ...as(owner), body: { maxQueuedRuns: 1_000 } }))).toMatchObject({ status: 404 });
    expect(await errorOf(await patchLimits(owner.tenantId, { maxQueuedRuns: 1_000 }, owner.token))).toMatchObject({ status: 403, code: "forbidden" });

    const list = (await (await call("GET", "/api/operator/tenants?limit=200", { token: operator.token })).json()) as { tenants: OperatorTenantView[] };
    expect(list.tenants.find((tenant) => tenant.id === owner.tenantId)?.limits).toMatchObject({ maxConcurrentRuns: 3, maxQueuedRuns: 10, monthlyTokens: 1_000, diskMb: 5 });
    expect(list.tenants.find((tenant) => tenant.id === operator.tenantId)?.limits).toMatchObject({ maxConcurrentRuns: 3, maxQueuedRuns: 50, monthlyTokens: null, diskMb: 100 });
  });

  it("refuse bad values, unknown fields and an empty change with 400, naming the field", async () => {
    for (const body of [{ maxConcurrentRuns: 0 }, { maxQueuedRuns: 1.5 }, { diskMb: -1 }, { monthlyTokens: "lots" }, { burst: 3 }, {}]) {
      const error = await errorOf(await patchLimits(owner.tenantId, body));
      expect(error.status).toBe(400);
      expect(error.message.length).toBeGreaterThan(10);
    }
    expect((await errorOf(await patchLimits(owner.tenantId, { maxConcurrentRuns: 0 }))).message).toContain("maxConcurrentRuns");
  });

  it("are the operator's only (403 for anyone else), and 404 for an organisation that does not exist", async () => {
    for (const who of [owner, member]) {
      expect(await errorOf(await call("GET", limitsPath(owner.tenantId), { token: who.token }))).toMatchObject({ status: 403, code: "forbidden" });
      expect(await errorOf(await patchLimits(operator.tenantId, { maxQueuedRuns: 1 }, who.token))).toMatchObject({ status: 403, code: "forbidden" });
    }
    for (const id of ["00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
      expect(await errorOf(await call("GET", limitsPath(id), { token: operator.token }))).toMatchObject({ status: 404, code: "not_found" });
      expect(await errorOf(await patchLimits(id, { maxQueuedRuns: 1 }))).toMatchObject({ status: 404, code: "not_found" });
    }
    expect((await operatorView(operator.tenantId)).overrides.maxQueuedRuns).toBeNull();
  });
});

describe("suspension", () => {
  it("is pushed to the gateway, so its runs are refused through every entry point, and lifting it is pushed too", async () => {
    const suspended = await call("PATCH", `/api/operator/tenants/${owner.tenantId}`, { token: operator.token, body: { suspended: true, reason: "Unpaid invoice" } });
    expect(suspended.status).toBe(200);
    expect(gateway.policies.get(owner.tenantId)).toMatchObject({ suspended: true, suspendedReason: "Unpaid invoice", limits: { maxQueuedRuns: 10 } });
    expect((await operatorView(owner.tenantId)).suspended).toEqual({ reason: "Unpaid invoice" });

    expect((await call("PATCH", `/api/operator/tenants/${owner.tenantId}`, { token: operator.token, body: { suspended: false } })).status).toBe(200);
    expect(gateway.policies.get(owner.tenantId)).toMatchObject({ suspended: false, suspendedReason: null });
  });
});

describe("a gateway that was down", () => {
  it("gets the change from the reconcile loop once it is back, with no further request", async () => {
    const port = await freePort();
    const offline = await createTestPlatform({ gatewayUrl: `http://127.0.0.1:${port}`, database: platform.database, parts: { policyReconcileMs: 20 } });
    try {
      const response = await caller(offline)("PATCH", limitsPath(owner.tenantId), { token: operator.token, body: { maxQueuedRuns: 7 } });
      expect(response.status).toBe(200);
      const view = OperatorLimitsView.parse(((await response.json()) as { limits: unknown }).limits);
      // Saved and audited, but not yet on any gateway: the operator sees it is pending.
      expect(view.effective.maxQueuedRuns).toBe(7);
      expect(view.push.pushedVersion).toBeLessThan(view.push.version);
      expect(view.push.lastError).toMatch(/not reachable/);
      expect(gateway.policies.get(owner.tenantId)?.limits.maxQueuedRuns).toBe(10);

      const revived = await startFakeGateway({ port });
      try {
        offline.policies.start();
        const policy = await gatewayPolicy(revived, owner.tenantId, (held) => held.limits.maxQueuedRuns === 7);
        expect(policy.version).toBe(view.push.version);
        for (let attempt = 0; attempt < 200 && (await operatorView(owner.tenantId)).push.pushedVersion < view.push.version; attempt += 1) {
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        expect((await operatorView(owner.tenantId)).push).toMatchObject({ pushedVersion: view.push.version, lastError: null });
      } finally {
        await offline.policies.stop();
        await revived.close();
      }
    } finally {
      await offline.close();
    }
  });

  it("also learns new organisations from the loop", async () => {
    const newcomer = await signUp(platform, "nina@example.com");
    expect(gateway.policies.has(newcomer.tenantId)).toBe(false);
    const errors = vi.spyOn(console, "error");
    expect(await platform.policies.reconcile()).toBeGreaterThanOrEqual(1);
    expect(gateway.policies.get(newcomer.tenantId)).toMatchObject({ suspended: false, limits: { maxConcurrentRuns: 3, maxQueuedRuns: 50 } });
    expect(errors).not.toHaveBeenCalled();
  });

  it("never gets the policy of an organisation that was erased before its push", async () => {
    const brief = await signUp(platform, "bea@example.com");
    const erased = await call("DELETE", "/api/tenant", { token: brief.token, headers: { "x-tenant-id": brief.tenantId }, body: { confirm: "bea's organisation" } });
    expect(erased.status).toBe(200);
    await platform.policies.reconcile();
    expect(gateway.policies.has(brief.tenantId)).toBe(false);
    expect(await errorOf(await call("GET", limitsPath(brief.tenantId), { token: operator.token }))).toMatchObject({ status: 404 });
  });
});
