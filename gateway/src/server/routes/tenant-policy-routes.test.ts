import { ApiErrorBody, EffectiveTenantPolicy, RunInfo, type TenantPolicy } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { DEFAULT_TENANT_LIMITS } from "../../tenants/tenant-policy";
import { startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../../test-support/test-gateway";
import { connectTestSocket } from "../../test-support/ws-test-client";
import { startServer, type RunningServer } from "../start-server";

let harness: TestGateway | undefined;
let server: RunningServer | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await server?.close();
  await harness?.cleanup();
  harness = undefined;
  server = undefined;
});

const TOKEN = "policy-token";

function policy(version: number, overrides: Partial<TenantPolicy> = {}): TenantPolicy {
  return { version, suspended: false, suspendedReason: null, limits: { maxConcurrentRuns: 2, maxQueuedRuns: 10, monthlyTokens: 1_000_000, diskBytes: 1_048_576 }, ...overrides };
}

async function start() {
  harness = await startTestGateway({ hookToken: TOKEN });
  for (const tenant of [TENANT_A, TENANT_B]) expect((await harness.createAgent(tenant)).status).toBe(201);
  return harness;
}

async function getPolicy(h: TestGateway, tenant: string) {
  const response = await h.request("GET", "/v1/tenant/policy", { tenant });
  expect(response.status).toBe(200);
  return EffectiveTenantPolicy.parse(await response.json());
}

async function errorOf(response: Response) {
  return { status: response.status, code: ApiErrorBody.parse(await response.json()).error.code };
}

describe("GET/PUT /v1/tenant/policy", () => {
  it("answers the gateway's defaults until the platform pushes a policy, then the pushed one", async () => {
    const h = await start();
    expect(await getPolicy(h, TENANT_A)).toEqual({ version: 0, suspended: false, suspendedReason: null, limits: DEFAULT_TENANT_LIMITS, source: "default" });
    const put = await h.request("PUT", "/v1/tenant/policy", { tenant: TENANT_A, body: policy(3) });
    expect(put.status).toBe(200);
    expect(EffectiveTenantPolicy.parse(await put.json())).toEqual({ ...policy(3), source: "pushed" });
    expect(await getPolicy(h, TENANT_A)).toEqual({ ...policy(3), source: "pushed" });
  });

  it("never lets an older version replace a newer one", async () => {
    const h = await start();
    await h.request("PUT", "/v1/tenant/policy", { tenant: TENANT_A, body: policy(5) });
    const stale = await h.request("PUT", "/v1/tenant/policy", { tenant: TENANT_A, body: policy(4, { suspended: true, suspendedReason: "stale" }) });
    expect(stale.status).toBe(200);
    expect(EffectiveTenantPolicy.parse(await stale.json())).toMatchObject({ version: 5, suspended: false });
    expect(await getPolicy(h, TENANT_A)).toMatchObject({ version: 5, suspended: false });
  });

  it("refuses malformed policies with validation_failed and keeps the one in force", async () => {
    const h = await start();
    await h.request("PUT", "/v1/tenant/policy", { tenant: TENANT_A, body: policy(1) });
    for (const body of [
      { ...policy(2), limits: { ...policy(2).limits, maxConcurrentRuns: 0 } },
      { ...policy(2), limits: { ...policy(2).limits, maxQueuedRuns: -1 } },
      { ...policy(2), version: -1 },
      { version: 2, suspended: "yes" },
    ]) {
      expect(await errorOf(await h.request("PUT", "/v1/tenant/policy", { tenant: TENANT_A, body }))).toEqual({ status: 400, code: "validation_failed" });
    }
    expect(await errorOf(await h.request("PUT", "/v1/tenant/policy", { tenant: TENANT_A, body: "{not json" }))).toEqual({ status: 400, code: "invalid_json" });
    expect((await getPolicy(h, TENANT_A)).version).toBe(1);
  });

  it("keeps each tenant's policy to itself", async () => {
    const h = await start();
    await h.request("PUT", "/v1/tenant/policy", { tenant: TENANT_A, body: policy(7, { suspended: true, suspendedReason: "A's invoice" }) });
    expect(await getPolicy(h, TENANT_B)).toMatchObject({ version: 0, suspended: false, source: "default" });
    expect(JSON.stringify(await getPolicy(h, TENANT_B))).not.toContain("invoice");
    expect((await h.request("POST", "/v1/agents/ada/runs", { tenant: TENANT_B, body: { message: "still here" } })).status).toBe(202);
  });
});

describe("a suspended tenant", () => {
  it("is refused with tenant_suspended on every entry point, while other tenants run", async () => {
    const h = await start();
    await h.request("PUT", "/v1/tenant/policy", { tenant: TENANT_A, body: policy(1, { suspended: true, suspendedReason: "unpaid invoice" }) });

    const http = await h.request("POST", "/v1/agents/ada/runs", { tenant: TENANT_A, body: { message: "hello" } });
    expect(http.status).toBe(403);
    const body = ApiErrorBody.parse(await http.json());
    expect(body.error).toMatchObject({ code: "tenant_suspended" });
    expect(body.error.message).toContain("unpaid invoice");
    expect(await errorOf(await h.request("POST", "/hooks/agent", { tenant: TENANT_A, body: { agent: "ada", message: "wake up" } }))).toEqual({ status: 403, code: "tenant_suspended" });
    const completion = await h.request("POST", "/v1/chat/completions", { tenant: TENANT_A, body: { model: "agent:ada", messages: [{ role: "user", content: "hi" }] } });
    expect(await errorOf(completion)).toEqual({ status: 403, code: "tenant_suspended" });

    server = await startServer(h.gateway.app, 0, "127.0.0.1", (request, socket, head) => h.gateway.websocket.handleUpgrade(request, socket, head));
    const client = connectTestSocket(`${server.url.replace("http", "ws")}/v1/ws`, { authorization: `Bearer ${TOKEN}`, "x-tenant-id": TENANT_A }, sockets);
    await client.opened;
    client.request("1", "chat.send", { agent: "ada", message: "hi over ws", actor: { userId: "user-1" } });
    const frames = await client.until((all) => all.some((frame) => frame.id === "1"));
    expect(frames.find((frame) => frame.id === "1")).toMatchObject({ type: "res", ok: false, error: { code: "tenant_suspended" } });

    // Nothing of A's was queued or written, and B is unaffected.
    const sessions = (await (await h.request("GET", "/v1/agents/ada/sessions", { tenant: TENANT_A })).json()) as { sessions: unknown[] };
    expect(sessions.sessions).toEqual([]);
    const b = await h.request("POST", "/v1/agents/ada/runs", { tenant: TENANT_B, body: { message: "hello" } });
    expect(b.status).toBe(202);
    expect(RunInfo.parse(await b.json()).status).toBe("running");

    // Lifting the suspension (a newer version) lets A run again without a restart.
    await h.request("PUT", "/v1/tenant/policy", { tenant: TENANT_A, body: policy(2) });
    expect((await h.request("POST", "/v1/agents/ada/runs", { tenant: TENANT_A, body: { message: "back" } })).status).toBe(202);
  });
});
