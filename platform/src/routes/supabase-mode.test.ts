import { withSystem } from "../db/scopes";
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { supabaseTokenVerifier } from "../auth/supabase-verifier";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, type TestPlatform } from "../test-support/test-platform";

const SUPABASE_URL = "https://project.supabase.co";
let gateway: FakeGateway;
let platform: TestPlatform;
let token: string;
let signFor: (userId: string, email: string) => Promise<string>;

beforeAll(async () => {
  gateway = await startFakeGateway();
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] });
  platform = await createTestPlatform({
    gatewayUrl: gateway.url,
    parts: {
      embedded: undefined,
      supabase: { verify: supabaseTokenVerifier({ supabaseUrl: SUPABASE_URL, jwtSecret: undefined, now: () => new Date(), keys }), url: SUPABASE_URL, anonKey: "anon-key" },
    },
  });
  signFor = (userId, email) =>
    new SignJWT({ email, role: "authenticated" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setSubject(userId)
      .setAudience("authenticated")
      .setIssuer(`${SUPABASE_URL}/auth/v1`)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(privateKey);
  token = await signFor("33333333-3333-4333-8333-333333333333", "sam@example.com");
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

describe("Supabase mode", () => {
  it("points the web app at Supabase and serves no embedded auth", async () => {
    const call = caller(platform);
    expect(await (await call("GET", "/api/config")).json()).toEqual({ supabaseUrl: SUPABASE_URL, supabaseAnonKey: "anon-key", embeddedAuth: false, signup: "open", firstAccount: true });
    expect((await call("POST", "/auth/v1/signup", { body: { email: "a@b.co", password: "12345678" } })).status).toBe(404);
  });

  it("gives a Supabase user an organisation on first use, once", async () => {
    const call = caller(platform);
    const first = await call("GET", "/api/me", { token });
    expect(first.status).toBe(200);
    const me = (await first.json()) as { user: { id: string; email: string }; tenants: { name: string; role: string }[] };
    // The installation's first user: its operator.
    expect(me.user).toEqual({ id: "33333333-3333-4333-8333-333333333333", email: "sam@example.com", emailConfirmed: true, operator: true });
    expect(me.tenants).toEqual([{ id: expect.any(String), name: "sam's organisation", role: "owner", suspended: false, suspendedReason: null }]);
    await call("GET", "/api/me", { token });
    const tenants = await withSystem(platform.database.system, (trx) => trx.selectFrom("tenants").selectAll().execute());
    expect(tenants).toHaveLength(1);
    expect((await call("POST", "/api/agents", { token, body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
  });

  it("provisions a new user once when their first requests arrive together", async () => {
    const call = caller(platform);
    const userId = "44444444-4444-4444-8444-444444444444";
    const newcomer = await signFor(userId, "nia@example.com");
    const responses = await Promise.all(Array.from({ length: 8 }, async () => call("GET", "/api/agents", { token: newcomer })));
    expect(responses.map((response) => response.status)).toEqual(Array(8).fill(200));
    const memberships = await withSystem(platform.database.system, (trx) => trx.selectFrom("memberships").select(["tenant_id", "role"]).where("user_id", "=", userId).execute());
    expect(memberships).toEqual([{ tenant_id: expect.any(String), role: "owner" }]);
  });

  it("gives a new Supabase user whose email a deleted account used a working organisation", async () => {
    const call = caller(platform);
    const reused = await signFor("55555555-5555-4555-8555-555555555555", "sam@example.com");
    const response = await call("GET", "/api/me", { token: reused });
    expect(response.status).toBe(200);
    const me = (await response.json()) as { tenants: { name: string; role: string }[] };
    expect(me.tenants).toEqual([{ id: expect.any(String), name: "sam's organisation", role: "owner", suspended: false, suspendedReason: null }]);
  });
});
