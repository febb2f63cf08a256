/**
 * The models an agent may name (issue 16): `GET /api/models` answers the real gateway's catalogue
 * (its provider's `GET /v1/models`, here the fake Anthropic upstream), and saving an agent with a
 * model outside it is refused with model_unavailable, unless the organisation brings its own key.
 */
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { ModelCatalogue } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGatewayProcess, type GatewayProcess } from "../test-support/gateway-process";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";

const HOOK_TOKEN = "models-hook-token";
let upstream: FakeUpstream;
let gateway: GatewayProcess;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let owner: { token: string; userId: string; tenantId: string };
let member: { token: string; userId: string; tenantId: string };

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "model-key", models: ["claude-fake-1", "claude-fake-2"] });
  gateway = await startGatewayProcess({ hookToken: HOOK_TOKEN, env: { ANTHROPIC_API_KEY: "model-key", ANTHROPIC_BASE_URL: upstream.url, WORKFORCE_DEFAULT_MODEL: "claude-fake-1" } });
  platform = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: HOOK_TOKEN });
  call = caller(platform);
  owner = await signUp(platform, "olga@models.example");
  member = await joinAs(platform, owner, "max@models.example", "member");
}, 60_000);
afterAll(async () => {
  await platform?.close();
  await gateway?.stop();
  await upstream?.close();
});

describe("GET /api/models and the agent's model", () => {
  it("lists what the gateway's provider offers, the offline model and the default, to members too", async () => {
    const response = await call("GET", "/api/models", { token: member.token, headers: { "x-tenant-id": owner.tenantId } });
    expect(response.status).toBe(200);
    const catalogue = ModelCatalogue.parse(await response.json());
    expect(catalogue.default).toBe("claude-fake-1");
    expect(catalogue.models.map((model) => model.id)).toEqual(["offline", "claude-fake-1", "claude-fake-2"]);
    expect(catalogue.ownKeys).toEqual([]);
  });

  it("refuses to save an agent with a model nobody serves, on create and on edit, and keeps the agent as it was", async () => {
    const refused = await call("POST", "/api/agents", { token: owner.token, headers: { "x-tenant-id": owner.tenantId }, body: { name: "Ada", role: "Analyst", model: "claude-nonexistent-9" } });
    expect(refused.status).toBe(422);
    const error = await errorOf(refused);
    expect(error.code).toBe("model_unavailable");
    expect(error.message).toContain("claude-nonexistent-9");
    expect((await call("GET", "/api/agents/ada", { token: owner.token, headers: { "x-tenant-id": owner.tenantId } })).status).toBe(404);

    expect((await call("POST", "/api/agents", { token: owner.token, headers: { "x-tenant-id": owner.tenantId }, body: { name: "Ada", role: "Analyst", model: "claude-fake-2" } })).status).toBe(201);
    const patched = await call("PATCH", "/api/agents/ada", { token: owner.token, headers: { "x-tenant-id": owner.tenantId }, body: { model: "claude-opus-4-1" } });
    expect([patched.status, (await errorOf(patched)).code]).toEqual([422, "model_unavailable"]);
    const agent = (await (await call("GET", "/api/agents/ada", { token: owner.token, headers: { "x-tenant-id": owner.tenantId } })).json()) as { agent: { model: string | null } };
    expect(agent.agent.model).toBe("claude-fake-2");
    // The default (no model of its own) and the offline model are always there.
    expect((await call("PATCH", "/api/agents/ada", { token: owner.token, headers: { "x-tenant-id": owner.tenantId }, body: { model: null } })).status).toBe(200);
    expect((await call("PATCH", "/api/agents/ada", { token: owner.token, headers: { "x-tenant-id": owner.tenantId }, body: { model: "offline" } })).status).toBe(200);
  });

  it("accepts any model of a provider the organisation has its own key for (it is theirs to choose)", async () => {
    const other = await signUp(platform, "otto@models.example");
    const body = { name: "Own", role: "Analyst", model: "claude-of-their-own-9" };
    const refused = await call("POST", "/api/agents", { token: other.token, headers: { "x-tenant-id": other.tenantId }, body });
    expect([refused.status, (await errorOf(refused)).code]).toEqual([422, "model_unavailable"]);
    const put = await call("PUT", "/api/integrations/model-keys/anthropic", { token: other.token, headers: { "x-tenant-id": other.tenantId }, body: { apiKey: "their-own-key" } });
    expect(put.status).toBe(200);
    const catalogue = ModelCatalogue.parse(await (await call("GET", "/api/models", { token: other.token, headers: { "x-tenant-id": other.tenantId } })).json());
    expect(catalogue.ownKeys).toEqual(["anthropic"]);
    expect((await call("POST", "/api/agents", { token: other.token, headers: { "x-tenant-id": other.tenantId }, body })).status).toBe(201);
  });
});
