/**
 * The operator's limits and suspensions reach a real gateway: the platform pushes the policy
 * (`PUT /v1/tenant/policy`), the gateway keeps it in the tenant's `limits.json`, and a second
 * gateway on the same data dir applies it without being told.
 */
import { readFile } from "node:fs/promises";
import { EffectiveTenantPolicy } from "@workforce/protocol";
import { tenantPaths } from "@workforce/protocol/tenant-path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../gateway/src/server/start-server";
import { startTestGateway, type TestGateway } from "../gateway/src/test-support/test-gateway";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../platform/src/test-support/test-platform";

const HOOK_TOKEN = "tenant-policy-hook-token";
let gateway: TestGateway;
let server: RunningServer;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let operator: { token: string; tenantId: string };
let customer: { token: string; tenantId: string };

beforeAll(async () => {
  gateway = await startTestGateway({ hookToken: HOOK_TOKEN });
  server = await startServer(gateway.gateway.app, 0, "127.0.0.1", (request, socket, head) => gateway.gateway.websocket.handleUpgrade(request, socket, head));
  platform = await createTestPlatform({ gatewayUrl: server.url, hookToken: HOOK_TOKEN, parts: { tenantDataDir: gateway.dataDir } });
  call = caller(platform);
  operator = await signUp(platform, "operator@example.com");
  customer = await signUp(platform, "carla@example.com");
});
afterAll(async () => {
  await platform?.close();
  await server?.close();
  await gateway?.cleanup();
});

async function policyOn(target: TestGateway, tenantId: string): Promise<EffectiveTenantPolicy> {
  const response = await target.request("GET", "/v1/tenant/policy", { tenant: tenantId });
  expect(response.status).toBe(200);
  return EffectiveTenantPolicy.parse(await response.json());
}

describe("the policy on a real gateway", () => {
  it("is the operator's limits as soon as the PATCH answers, kept in the tenant's limits.json", async () => {
    const response = await call("PATCH", `/api/operator/tenants/${customer.tenantId}/limits`, {
      token: operator.token,
      body: { maxConcurrentRuns: 2, maxQueuedRuns: 5, monthlyTokens: 10_000, diskMb: 50 },
    });
    expect(response.status).toBe(200);
    const policy = await policyOn(gateway, customer.tenantId);
    expect(policy).toMatchObject({ source: "pushed", suspended: false, limits: { maxConcurrentRuns: 2, maxQueuedRuns: 5, monthlyTokens: 10_000, diskBytes: 50 * 1024 * 1024 } });
    const stored = JSON.parse(await readFile(tenantPaths(gateway.dataDir, customer.tenantId).policy, "utf8")) as { version: number };
    expect(stored.version).toBe(policy.version);
    // The operator's own organisation was not touched: the gateway's defaults still apply to it.
    expect((await policyOn(gateway, operator.tenantId)).source).toBe("default");
  });

  it("says the organisation is suspended, with the reason, and is lifted again", async () => {
    expect((await call("PATCH", `/api/operator/tenants/${customer.tenantId}`, { token: operator.token, body: { suspended: true, reason: "Card declined" } })).status).toBe(200);
    expect(await policyOn(gateway, customer.tenantId)).toMatchObject({ suspended: true, suspendedReason: "Card declined", limits: { maxQueuedRuns: 5 } });

    // A second gateway on the same data dir applies it too, without a push of its own.
    const second = await startTestGateway({ hookToken: HOOK_TOKEN, dataDir: gateway.dataDir });
    try {
      expect(await policyOn(second, customer.tenantId)).toMatchObject({ source: "pushed", suspended: true, suspendedReason: "Card declined" });
      expect((await call("PATCH", `/api/operator/tenants/${customer.tenantId}`, { token: operator.token, body: { suspended: false } })).status).toBe(200);
      expect(await policyOn(second, customer.tenantId)).toMatchObject({ suspended: false, suspendedReason: null });
    } finally {
      await second.gateway.close();
    }
  });

  it("takes the organisation's own lower budget over the plan's tokens", async () => {
    expect((await call("PUT", "/api/budget", { token: customer.token, headers: { "x-tenant-id": customer.tenantId }, body: { monthlyTokens: 4_000 } })).status).toBe(200);
    // The budget route pushes without waiting; the loop would retry a failed push.
    await platform.policies.reconcile();
    for (let attempt = 0; attempt < 200 && (await policyOn(gateway, customer.tenantId)).limits.monthlyTokens !== 4_000; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect((await policyOn(gateway, customer.tenantId)).limits.monthlyTokens).toBe(4_000);
  });
});
