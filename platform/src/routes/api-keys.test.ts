import { withSystem } from "../db/scopes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, signUp, type TestPlatform } from "../test-support/test-platform";
import type { ApiKeyView } from "./api-keys";

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let ada: { token: string; userId: string; tenantId: string };
let bob: { token: string; userId: string; tenantId: string };

beforeAll(async () => {
  gateway = await startFakeGateway();
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  call = caller(platform);
  ada = await signUp(platform, "ada@example.com");
  bob = await signUp(platform, "bob@example.com");
  await call("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst" } });
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

async function createKey(name: string, scopes?: string[]) {
  const response = await call("POST", "/api/keys", { token: ada.token, body: { name, ...(scopes ? { scopes } : {}) } });
  expect(response.status).toBe(201);
  return (await response.json()) as { key: ApiKeyView; secret: string };
}

describe("API keys", () => {
  it("shows the secret once, stores only its hash, and lists keys without it", async () => {
    const { key, secret } = await createKey("ci");
    expect(secret).toMatch(/^wf_/);
    expect(key).toMatchObject({ name: "ci", prefix: secret.slice(0, 9), lastUsedAt: null, revokedAt: null, createdBy: ada.userId });
    expect(key.scopes).toEqual(["agents:read", "agents:write", "sessions:read", "sessions:write", "chat", "usage:read"]);
    const rows = await withSystem(platform.database.system, (trx) => trx.selectFrom("api_keys").selectAll().execute());
    expect(JSON.stringify(rows)).not.toContain(secret);
    const list = await (await call("GET", "/api/keys", { token: ada.token })).text();
    expect(list).not.toContain(secret);
    expect(list).toContain(key.id);
  });

  it("authenticates programmatic calls to its tenant and records last use", async () => {
    const { key, secret } = await createKey("reader", ["agents:read"]);
    const agents = await call("GET", "/api/agents", { token: secret });
    expect(agents.status).toBe(200);
    expect(((await agents.json()) as { agents: { slug: string }[] }).agents.map((agent) => agent.slug)).toEqual(["ada"]);
    const row = await withSystem(platform.database.system, (trx) => trx.selectFrom("api_keys").select("last_used_at").where("id", "=", key.id).executeTakeFirstOrThrow());
    expect(row.last_used_at).toBeInstanceOf(Date);
  });

  it("enforces scopes and keeps keys out of people-only routes", async () => {
    const { secret } = await createKey("reader", ["agents:read"]);
    const write = await call("POST", "/api/agents", { token: secret, body: { name: "Eve", role: "x" } });
    expect(await errorOf(write)).toMatchObject({ status: 403, code: "forbidden", message: expect.stringContaining("agents:write") });
    const chat = await call("POST", "/api/agents/ada/messages", { token: secret, body: { message: "hi" } });
    expect(chat.status).toBe(403);
    for (const path of ["/api/keys", "/api/me", "/api/members", "/api/audit"]) {
      expect((await call("GET", path, { token: secret })).status).toBe(403);
    }
    const otherTenant = await call("GET", "/api/agents", { token: secret, headers: { "x-tenant-id": bob.tenantId } });
    expect(otherTenant.status).toBe(403);
  });

  it("stops working once revoked", async () => {
    const { key, secret } = await createKey("temporary");
    expect((await call("DELETE", `/api/keys/${key.id}`, { token: ada.token })).status).toBe(204);
    const rejected = await call("GET", "/api/agents", { token: secret });
    expect(await errorOf(rejected)).toMatchObject({ status: 401, code: "invalid_token" });
    expect((await call("DELETE", `/api/keys/${key.id}`, { token: ada.token })).status).toBe(404);
    expect((await call("GET", "/api/agents", { token: "wf_made-up" })).status).toBe(401);
  });
});
