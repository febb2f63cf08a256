import { withSystem } from "../db/scopes";
import { createClient } from "@supabase/supabase-js";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { createTestPlatform, errorOf, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";

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

async function post(path: string, body: unknown) {
  const response = await platform.app.request(`${TEST_ORIGIN}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & { error: { code: string; message: string }; refresh_token: string } };
}

describe("embedded auth with the real @supabase/supabase-js client", () => {
  it("signs up, gets the user, signs in, refreshes with rotation and signs out", async () => {
    const supabase = client();
    const signUp = await supabase.auth.signUp({ email: "Ada@Example.com", password: "correct horse battery" });
    expect(signUp.error).toBeNull();
    expect(signUp.data.session?.access_token).toBeTruthy();
    expect(signUp.data.user?.email).toBe("ada@example.com");

    const claims = decodeJwt(signUp.data.session!.access_token);
    expect(claims).toMatchObject({ sub: signUp.data.user!.id, email: "ada@example.com", role: "authenticated", aud: "authenticated" });
    expect(claims.iss).toBe(`${TEST_ORIGIN}/auth/v1`);
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(typeof claims.session_id).toBe("string");

    const user = await supabase.auth.getUser();
    expect(user.error).toBeNull();
    expect(user.data.user?.id).toBe(signUp.data.user!.id);

    const other = client();
    const signIn = await other.auth.signInWithPassword({ email: "ada@example.com", password: "correct horse battery" });
    expect(signIn.error).toBeNull();
    const firstRefresh = signIn.data.session!.refresh_token;

    const refreshed = await other.auth.refreshSession();
    expect(refreshed.error).toBeNull();
    expect(refreshed.data.session!.refresh_token).not.toBe(firstRefresh);
    expect(refreshed.data.user?.email).toBe("ada@example.com");

    const me = await platform.app.request(`${TEST_ORIGIN}/api/me`, { headers: { authorization: `Bearer ${refreshed.data.session!.access_token}` } });
    expect(me.status).toBe(200);
    const body = (await me.json()) as { user: unknown; tenants: unknown; model: unknown };
    // The installation's first account: its operator, its address taken on trust.
    expect(body.user).toEqual({ id: signUp.data.user!.id, email: "ada@example.com", emailConfirmed: true, operator: true });
    expect(body.tenants).toEqual([{ id: expect.any(String), name: "ada's organisation", role: "owner", suspended: false, suspendedReason: null }]);
    expect(body.model).toEqual({ provider: "offline", id: "offline", offline: true });

    const signOut = await other.auth.signOut();
    expect(signOut.error).toBeNull();
    const afterSignOut = await platform.app.request(`${TEST_ORIGIN}/auth/v1/user`, {
      headers: { authorization: `Bearer ${refreshed.data.session!.access_token}` },
    });
    expect(await errorOf(afterSignOut)).toMatchObject({ status: 403, code: "session_not_found" });
    // The access token stops working on /api at once, although it has not expired.
    const api = await platform.app.request(`${TEST_ORIGIN}/api/me`, { headers: { authorization: `Bearer ${refreshed.data.session!.access_token}` } });
    expect(await errorOf(api)).toMatchObject({ status: 401, code: "invalid_token" });
    // Global sign-out (supabase-js's default) ends the first client's session too: supabase-js drops it.
    expect((await supabase.auth.getUser()).error?.name).toBe("AuthSessionMissingError");
    const reuse = await post("/auth/v1/token?grant_type=refresh_token", { refresh_token: refreshed.data.session!.refresh_token });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe("invalid_token");
  });

  it("surfaces readable errors: malformed email, short password, duplicate, wrong password", async () => {
    const supabase = client();
    const badEmail = await supabase.auth.signUp({ email: "not-an-email", password: "correct horse battery" });
    expect(badEmail.error?.status).toBe(400);
    expect(badEmail.error?.code).toBe("validation_failed");
    expect(badEmail.error?.message).toMatch(/email/);

    const short = await supabase.auth.signUp({ email: "bob@example.com", password: "short" });
    expect(short.error?.status).toBe(422);
    expect(short.error?.code).toBe("weak_password");
    expect(short.error?.message).toMatch(/at least 8 characters/);

    await supabase.auth.signUp({ email: "carol@example.com", password: "correct horse battery" });
    const duplicate = await client().auth.signUp({ email: "CAROL@example.com", password: "correct horse battery" });
    expect(duplicate.error?.status).toBe(422);
    expect(duplicate.error?.code).toBe("email_taken");
    expect(duplicate.error?.message).toMatch(/already been registered/);

    const wrong = await client().auth.signInWithPassword({ email: "carol@example.com", password: "wrong password!" });
    expect(wrong.error?.status).toBe(400);
    expect(wrong.error?.code).toBe("invalid_credentials");
    expect(wrong.error?.message).toBe("Invalid login credentials");
  });

  it("answers every error in our shape too", async () => {
    const badEmail = await post("/auth/v1/signup", { email: "nope", password: "correct horse battery" });
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.error).toEqual({ code: "validation_failed", message: expect.stringContaining("email") });

    const short = await post("/auth/v1/signup", { email: "dave@example.com", password: "1234567" });
    expect(short.status).toBe(422);
    expect(short.body.error.code).toBe("weak_password");

    const unknownUser = await post("/auth/v1/token?grant_type=password", { email: "nobody@example.com", password: "whatever123" });
    expect(unknownUser.status).toBe(400);
    expect(unknownUser.body.error).toEqual({ code: "invalid_credentials", message: "Invalid login credentials" });

    const badGrant = await post("/auth/v1/token?grant_type=magic", {});
    expect(badGrant.status).toBe(400);
    expect(badGrant.body.error.message).toMatch(/grant_type/);

    const invalidJson = await platform.app.request(`${TEST_ORIGIN}/auth/v1/signup`, { method: "POST", body: "{nope" });
    expect(invalidJson.status).toBe(400);
    expect((await errorOf(invalidJson)).code).toBe("invalid_json");
  });

  it("detects a reused refresh token and revokes its whole session", async () => {
    const session = (await post("/auth/v1/signup", { email: "erin@example.com", password: "correct horse battery" })).body;
    const first = await post("/auth/v1/token?grant_type=refresh_token", { refresh_token: session.refresh_token });
    expect(first.status).toBe(200);
    // Much later, the original token shows up again: treat as stolen.
    await withSystem(platform.database.system, (trx) => trx.updateTable("refresh_tokens").set({ created_at: new Date(Date.now() - 60_000) }).execute());
    const replay = await post("/auth/v1/token?grant_type=refresh_token", { refresh_token: session.refresh_token });
    expect(replay.status).toBe(401);
    const successor = await post("/auth/v1/token?grant_type=refresh_token", { refresh_token: first.body.refresh_token });
    expect(successor.status).toBe(401);
  });

  it("lets two tabs refresh the same token at once", async () => {
    const session = (await post("/auth/v1/signup", { email: "frank@example.com", password: "correct horse battery" })).body;
    const [a, b] = await Promise.all([
      post("/auth/v1/token?grant_type=refresh_token", { refresh_token: session.refresh_token }),
      post("/auth/v1/token?grant_type=refresh_token", { refresh_token: session.refresh_token }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
  });
});
