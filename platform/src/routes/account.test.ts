import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, confirmEmail, createTestPlatform, errorOf, invitationTokenFor, signUp, type TestPlatform } from "../test-support/test-platform";

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;

beforeAll(async () => {
  gateway = await startFakeGateway();
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  call = caller(platform);
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

describe("account-level operations", () => {
  it("ignore the X-Tenant-ID of an organisation the user no longer belongs to", async () => {
    const ida = await signUp(platform, "ida@example.com");
    const stale = { "x-tenant-id": ida.tenantId };
    const erased = await call("DELETE", "/api/tenant", { token: ida.token, headers: stale, body: { confirm: "ida's organisation" } });
    expect(erased.status).toBe(200);

    // The browser still sends the old id: account routes answer, organisation routes refuse it.
    const me = await call("GET", "/api/me", { token: ida.token, headers: stale });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { tenants: unknown[] }).tenants).toEqual([]);
    expect(await errorOf(await call("GET", "/api/agents", { token: ida.token, headers: stale }))).toMatchObject({ status: 403, code: "forbidden" });

    const host = await signUp(platform, "hal@example.com");
    expect((await call("POST", "/api/invitations", { token: host.token, body: { email: "ida@example.com" } })).status).toBe(201);
    await confirmEmail(platform, "ida@example.com");
    const token = await invitationTokenFor(platform, "ida@example.com");
    const accepted = await call("POST", "/api/invitations/accept", { token: ida.token, headers: stale, body: { token } });
    expect(accepted.status).toBe(200);

    const created = await call("POST", "/api/tenants", { token: ida.token, headers: stale, body: { name: "Ida again" } });
    expect(created.status).toBe(201);
    const listed = await call("GET", "/api/tenants", { token: ida.token, headers: stale });
    expect(((await listed.json()) as { tenants: { name: string }[] }).tenants.map((tenant) => tenant.name)).toEqual(["hal's organisation", "Ida again"]);
  });

  it("ignore a malformed X-Tenant-ID, which organisation routes still reject", async () => {
    const ivo = await signUp(platform, "ivo@example.com");
    const malformed = { "x-tenant-id": "not-a-uuid" };
    expect((await call("GET", "/api/me", { token: ivo.token, headers: malformed })).status).toBe(200);
    expect(await errorOf(await call("GET", "/api/members", { token: ivo.token, headers: malformed }))).toMatchObject({ status: 400, code: "invalid_tenant_id" });
  });

  it("are for people: an API key gets 403", async () => {
    const kai = await signUp(platform, "kai@example.com");
    const key = (await (await call("POST", "/api/keys", { token: kai.token, body: { name: "ci" } })).json()) as { secret: string };
    expect(await errorOf(await call("GET", "/api/me", { token: key.secret }))).toMatchObject({ status: 403, code: "forbidden" });
  });
});
