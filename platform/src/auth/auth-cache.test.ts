/**
 * Authentication remembers memberships for a few seconds: a member removed or demoted through
 * this process's routes loses access at once; one removed behind its back (another process,
 * or the database directly) within the cache's TTL.
 */
import { withSystem } from "../db/scopes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";
import type { AuthenticatedUser } from "./access-token";
import { AUTH_CACHE_TTL_MS, createAuthCache } from "./auth-cache";

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
/** The cache's clock, moved by hand; the tokens themselves are checked against the real time. */
let clock = Date.now();

beforeAll(async () => {
  gateway = await startFakeGateway();
  platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { authCache: createAuthCache({ now: () => clock }) } });
  call = caller(platform);
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

const members = (who: { token: string; tenantId: string }) => call("GET", "/api/members", { token: who.token, headers: { "x-tenant-id": who.tenantId } });

describe("the authentication cache", () => {
  it("drops a member removed through the API at once", async () => {
    const owner = await signUp(platform, "owner1@example.com");
    const member = await joinAs(platform, owner, "member1@example.com", "member");
    expect((await members(member)).status).toBe(200);
    const removed = await call("DELETE", `/api/members/${member.userId}`, { token: owner.token, headers: { "x-tenant-id": owner.tenantId } });
    expect(removed.status).toBe(204);
    expect(await errorOf(await members(member))).toMatchObject({ status: 403, code: "forbidden" });
  });

  it("applies a role change made through the API at once", async () => {
    const owner = await signUp(platform, "owner2@example.com");
    const admin = await joinAs(platform, owner, "admin2@example.com", "admin");
    const invite = () => call("GET", "/api/invitations", { token: admin.token, headers: { "x-tenant-id": admin.tenantId } });
    expect((await invite()).status).toBe(200);
    const demoted = await call("PATCH", `/api/members/${admin.userId}`, { token: owner.token, headers: { "x-tenant-id": owner.tenantId }, body: { role: "member" } });
    expect(demoted.status).toBe(200);
    expect(await errorOf(await invite())).toMatchObject({ status: 403, code: "forbidden" });
  });

  it("drops a member removed behind its back within the TTL", async () => {
    const owner = await signUp(platform, "owner3@example.com");
    const member = await joinAs(platform, owner, "member3@example.com", "member");
    expect((await members(member)).status).toBe(200);
    // As another platform process would: straight in the database.
    await withSystem(platform.database.system, (trx) => trx.deleteFrom("memberships").where("tenant_id", "=", owner.tenantId).where("user_id", "=", member.userId).execute());
    expect((await members(member)).status).toBe(200);
    clock += AUTH_CACHE_TTL_MS + 1;
    expect(await errorOf(await members(member))).toMatchObject({ status: 403, code: "forbidden" });
  });

  it("forgets a revoked API key at once", async () => {
    const owner = await signUp(platform, "owner4@example.com");
    const created = await call("POST", "/api/keys", { token: owner.token, body: { name: "ci", scopes: ["agents:read"] } });
    expect(created.status).toBe(201);
    const { key, secret } = (await created.json()) as { key: { id: string }; secret: string };
    const agents = () => call("GET", "/api/agents", { token: secret });
    expect((await agents()).status).toBe(200);
    expect((await call("DELETE", `/api/keys/${key.id}`, { token: owner.token })).status).toBe(204);
    expect(await errorOf(await agents())).toMatchObject({ status: 401, code: "invalid_token" });
  });

  it("answers a burst of requests that find an entry expired with one lookup, and looks up again after an invalidation", async () => {
    let now = 0;
    const cache = createAuthCache({ now: () => now });
    let lookups = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const lookUp = async () => {
      lookups += 1;
      await held;
      return { userId: "u1", tenantId: "t1", role: "member" as const, suspended: null };
    };
    const burst = Array.from({ length: 30 }, () => cache.loadMembership("u1", undefined, lookUp));
    // Removed meanwhile (through this process): later requests must not take the answer under way.
    cache.invalidateUser("u1");
    const after = cache.loadMembership("u1", undefined, lookUp);
    release();
    expect(new Set(await Promise.all(burst)).size).toBe(1);
    await after;
    expect(lookups).toBe(2);
    // Remembered: no lookup within the TTL, one once it expired.
    await cache.loadMembership("u1", undefined, lookUp);
    expect(lookups).toBe(2);
    now += AUTH_CACHE_TTL_MS + 1;
    await Promise.all(Array.from({ length: 10 }, () => cache.loadMembership("u1", undefined, lookUp)));
    expect(lookups).toBe(3);
  });

  it("verifies a token once for a burst, and does not remember a verification that raced a sign-out", async () => {
    const cache = createAuthCache({ now: () => 0 });
    // A token that expires long after the cache's TTL (only its payload is read here; `verify` stands in for the signature check).
    const token = ["e30", Buffer.from(JSON.stringify({ exp: 4_000_000_000 })).toString("base64url"), "signature"].join(".");
    let verifications = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const verify = cache.verifier(async () => {
      verifications += 1;
      await held;
      const user: AuthenticatedUser = { id: "u1", email: "u1@example.com", sessionId: "s1" };
      return user;
    });
    const burst = Array.from({ length: 20 }, () => verify(token));
    // Signed out while the verification is under way: it answers its callers, and is not remembered.
    cache.invalidateSessions(["s1"]);
    release();
    await Promise.all(burst);
    expect(verifications).toBe(1);
    await verify(token);
    expect(verifications).toBe(2);
    // Remembered now: no verification within the TTL.
    await verify(token);
    expect(verifications).toBe(2);
  });
});
