import { createClient } from "@supabase/supabase-js";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { createTestPlatform, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";
import { JWKS_MAX_AGE_SECONDS } from "./jwks";

let gateway: FakeGateway;
let platform: TestPlatform;

beforeAll(async () => {
  gateway = await startFakeGateway();
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

function client() {
  return createClient(TEST_ORIGIN, "embedded", {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: platform.fetch },
  });
}

async function jwks(): Promise<{ body: JSONWebKeySet; cacheControl: string | null }> {
  const response = await platform.app.request(`${TEST_ORIGIN}/auth/v1/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  return { body: (await response.json()) as JSONWebKeySet, cacheControl: response.headers.get("cache-control") };
}

describe("ES256 tokens and the JWKS, with the real @supabase/supabase-js client", () => {
  it("signs in with ES256 tokens whose kid the JWKS publishes, verifiable by anyone from the JWKS alone", async () => {
    const supabase = client();
    const signUp = await supabase.auth.signUp({ email: "grace@example.com", password: "correct horse battery" });
    expect(signUp.error).toBeNull();
    const signIn = await supabase.auth.signInWithPassword({ email: "grace@example.com", password: "correct horse battery" });
    expect(signIn.error).toBeNull();
    const token = signIn.data.session!.access_token;

    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: "ES256", typ: "JWT" });
    const { body, cacheControl } = await jwks();
    expect(cacheControl).toBe(`public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    expect(body.keys.map((key) => key.kid)).toContain(header.kid);
    expect(JSON.stringify(body)).not.toMatch(/"d"/);

    // An outside service verifies with nothing but the published keys.
    const { payload } = await jwtVerify(token, createLocalJWKSet(body), { algorithms: ["ES256"], audience: "authenticated", issuer: `${TEST_ORIGIN}/auth/v1` });
    expect(payload.sub).toBe(signIn.data.user!.id);
    expect((await supabase.auth.getUser()).data.user?.email).toBe("grace@example.com");
  });

  it("keeps signed-in clients working across a rotation and signs new sessions with the new key", async () => {
    const before = client();
    expect((await before.auth.signUp({ email: "linus@example.com", password: "correct horse battery" })).error).toBeNull();
    const oldKid = decodeProtectedHeader((await before.auth.getSession()).data.session!.access_token).kid;

    const rotation = await platform.signingKeys.rotate();
    expect(rotation.previous).toBe(oldKid);
    expect((await jwks()).body.keys.map((key) => key.kid)).toEqual([rotation.current, rotation.standby, oldKid]);

    const user = await before.auth.getUser();
    expect(user.error).toBeNull();
    expect(user.data.user?.email).toBe("linus@example.com");

    const after = client();
    const signIn = await after.auth.signInWithPassword({ email: "linus@example.com", password: "correct horse battery" });
    expect(signIn.error).toBeNull();
    expect(decodeProtectedHeader(signIn.data.session!.access_token).kid).toBe(rotation.current);

    await platform.signingKeys.revoke(oldKid!);
    expect((await before.auth.getUser()).error?.status).toBe(401);
    expect((await after.auth.getUser()).error).toBeNull();
    // A refresh token outlives the key: the client gets a token signed with the current key.
    const refreshed = await before.auth.refreshSession();
    expect(refreshed.error).toBeNull();
    expect(decodeProtectedHeader(refreshed.data.session!.access_token).kid).toBe(rotation.current);
  });
});
