/**
 * Sessions a user can end: signing out refuses the session's access tokens on /api at once,
 * although they have not expired, here and (within the authentication cache's lifetime) on
 * another platform process; refresh tokens stop at the session's idle and absolute lifetimes;
 * ended sessions are pruned. All through the real @supabase/supabase-js client.
 */
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_CACHE_TTL_MS, createAuthCache } from "../auth/auth-cache";
import { withSystem } from "../db/scopes";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, supabaseClient, type TestPlatform } from "../test-support/test-platform";

const PASSWORD = "correct horse battery";

let gateway: FakeGateway;
let first: TestPlatform;
let second: TestPlatform;
/** The processes' authentication-cache clocks, moved by hand (tokens are still checked against the real time). */
let firstCacheClock = Date.now();
let secondCacheClock = Date.now();

beforeAll(async () => {
  gateway = await startFakeGateway();
  first = await createTestPlatform({ gatewayUrl: gateway.url, parts: { authCache: createAuthCache({ now: () => firstCacheClock }) } });
  second = await createTestPlatform({ gatewayUrl: gateway.url, database: first.database, parts: { authCache: createAuthCache({ now: () => secondCacheClock }) } });
});
afterAll(async () => {
  await second.close();
  await first.close();
  await gateway.close();
});

const me = (platform: TestPlatform, token: string) => caller(platform)("GET", "/api/me", { token });

/** A signed-in supabase-js client of `email` (signed up on first use) and its access token. */
async function signedIn(platform: TestPlatform, email: string) {
  const supabase = supabaseClient(platform);
  const signIn = await supabase.auth.signInWithPassword({ email, password: PASSWORD });
  // The first time, signing up is the sign-in (confirmation is optional here).
  const result = signIn.error?.code === "invalid_credentials" ? await supabase.auth.signUp({ email, password: PASSWORD }) : signIn;
  expect(result.error).toBeNull();
  const session = result.data.session!;
  return { supabase, token: session.access_token, refreshToken: session.refresh_token, sessionId: String(decodeJwt(session.access_token).session_id) };
}

describe("signing out", () => {
  it("everywhere (supabase-js's default) refuses every session's unexpired access token on /api at once", async () => {
    const laptop = await signedIn(first, "global@example.com");
    const phone = await signedIn(first, "global@example.com");
    expect((await me(first, laptop.token)).status).toBe(200);
    expect((await me(first, phone.token)).status).toBe(200);

    expect((await laptop.supabase.auth.signOut()).error).toBeNull();

    for (const token of [laptop.token, phone.token]) {
      expect(decodeJwt(token).exp! * 1000).toBeGreaterThan(Date.now());
      expect(await errorOf(await me(first, token))).toMatchObject({ status: 401, code: "invalid_token" });
    }
    const refresh = await phone.supabase.auth.refreshSession();
    expect(refresh.error).toMatchObject({ status: 401, code: "invalid_token" });
  });

  it("locally ends only this session: the user's other sign-ins keep working", async () => {
    const laptop = await signedIn(first, "local@example.com");
    const phone = await signedIn(first, "local@example.com");

    expect((await laptop.supabase.auth.signOut({ scope: "local" })).error).toBeNull();

    expect(await errorOf(await me(first, laptop.token))).toMatchObject({ status: 401, code: "invalid_token" });
    expect((await me(first, phone.token)).status).toBe(200);
    expect((await phone.supabase.auth.refreshSession()).error).toBeNull();
    expect((await laptop.supabase.auth.getSession()).data.session).toBeNull();
  });

  it("from the others (scope others) keeps this session and ends the rest", async () => {
    const laptop = await signedIn(first, "others@example.com");
    const phone = await signedIn(first, "others@example.com");
    const tablet = await signedIn(first, "others@example.com");

    expect((await laptop.supabase.auth.signOut({ scope: "others" })).error).toBeNull();

    expect((await me(first, laptop.token)).status).toBe(200);
    expect((await laptop.supabase.auth.refreshSession()).error).toBeNull();
    for (const other of [phone, tablet]) {
      expect(await errorOf(await me(first, other.token))).toMatchObject({ status: 401, code: "invalid_token" });
    }
  });

  it("reaches another platform process sharing the database within the authentication cache's lifetime", async () => {
    const user = await signedIn(first, "cluster@example.com");
    // The second process has verified (and cached) the token before the sign-out.
    expect((await me(second, user.token)).status).toBe(200);

    expect((await user.supabase.auth.signOut({ scope: "local" })).error).toBeNull();
    expect(await errorOf(await me(first, user.token))).toMatchObject({ status: 401, code: "invalid_token" });

    // Until its cache entry lapses the other process may still take it; never longer.
    expect((await me(second, user.token)).status).toBe(200);
    secondCacheClock += AUTH_CACHE_TTL_MS + 1;
    expect(await errorOf(await me(second, user.token))).toMatchObject({ status: 401, code: "invalid_token" });
  });

  it("made on the other process works the same way round", async () => {
    const user = await signedIn(second, "cluster2@example.com");
    expect((await me(first, user.token)).status).toBe(200);

    expect((await user.supabase.auth.signOut()).error).toBeNull();
    expect(await errorOf(await me(second, user.token))).toMatchObject({ status: 401, code: "invalid_token" });

    firstCacheClock += AUTH_CACHE_TTL_MS + 1;
    expect(await errorOf(await me(first, user.token))).toMatchObject({ status: 401, code: "invalid_token" });
  });
});

describe("session lifetimes", () => {
  const IDLE_MS = 60_000;
  const MAX_MS = 180_000;
  let clock = Date.now();
  let platform: TestPlatform;

  beforeAll(async () => {
    // Minutes rather than days, so the tokens issued on the moved clock stay valid in real time.
    platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { now: () => new Date(clock), sessionLifetimes: { idleMs: IDLE_MS, maxMs: MAX_MS } } });
  });
  afterAll(async () => {
    await platform.close();
  });

  it("ends a session left idle longer than the idle lifetime: refreshing answers 401 session_expired", async () => {
    const user = await signedIn(platform, "idle@example.com");
    clock += IDLE_MS - 10_000;
    expect((await user.supabase.auth.refreshSession()).error).toBeNull();
    clock += IDLE_MS - 10_000;
    expect((await user.supabase.auth.refreshSession()).error).toBeNull();
    clock += IDLE_MS + 1_000;
    const expired = await user.supabase.auth.refreshSession();
    expect(expired.error).toMatchObject({ status: 401, code: "session_expired" });
    // It stays ended: its access token is refused too.
    expect(await errorOf(await me(platform, user.token))).toMatchObject({ status: 401, code: "invalid_token" });
  });

  it("ends a session at its absolute lifetime however often it is refreshed", async () => {
    const user = await signedIn(platform, "busy@example.com");
    const started = clock;
    while (clock - started + 50_000 <= MAX_MS) {
      clock += 50_000;
      expect((await user.supabase.auth.refreshSession()).error).toBeNull();
    }
    clock += 50_000;
    const expired = await user.supabase.auth.refreshSession();
    expect(expired.error).toMatchObject({ status: 401, code: "session_expired" });
  });

  it("prunes ended sessions (signed out, idle) with their refresh tokens, and keeps the live one", async () => {
    const signedOut = await signedIn(platform, "prune@example.com");
    const idle = await signedIn(platform, "prune@example.com");
    const live = await signedIn(platform, "prune@example.com");
    expect((await signedOut.supabase.auth.signOut({ scope: "local" })).error).toBeNull();
    clock += 40_000;
    expect((await live.supabase.auth.refreshSession()).error).toBeNull();
    clock += 40_000;
    expect((await live.supabase.auth.refreshSession()).error).toBeNull();

    const userId = String(decodeJwt(live.token).sub);
    const rows = () =>
      withSystem(platform.database.system, async (trx) => ({
        sessions: (await trx.selectFrom("auth_sessions").select("id").where("user_id", "=", userId).execute()).map((row) => row.id).sort(),
        tokenSessions: [...new Set((await trx.selectFrom("refresh_tokens").select("session_id").where("user_id", "=", userId).execute()).map((row) => row.session_id))].sort(),
      }));
    const before = await rows();
    expect(before.sessions).toEqual([signedOut.sessionId, idle.sessionId, live.sessionId].sort());

    const pruned = await platform.auth!.prune();
    expect(pruned.sessions).toBeGreaterThanOrEqual(2);

    expect(await rows()).toEqual({ sessions: [live.sessionId], tokenSessions: [live.sessionId] });
    expect((await live.supabase.auth.refreshSession()).error).toBeNull();
    // The idle session's refresh token is simply unknown now.
    const gone = await caller(platform)("POST", "/auth/v1/token?grant_type=refresh_token", { body: { refresh_token: idle.refreshToken } });
    expect(await errorOf(gone)).toMatchObject({ status: 401, code: "invalid_token" });
  });
});

describe("a refresh token used twice", () => {
  it("signs the session out, and this process refuses its access token at once", async () => {
    // The platform's clock decides the 10 s reuse window; the cache keeps its own, standing still.
    let clock = Date.now();
    const cacheClock = Date.now();
    const platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { now: () => new Date(clock), authCache: createAuthCache({ now: () => cacheClock }) } });
    try {
      const user = await signedIn(platform, "leaked@example.com");
      expect((await me(platform, user.token)).status).toBe(200);
      expect((await user.supabase.auth.refreshSession()).error).toBeNull();

      // Someone else shows up with the rotated token well after the rotation: it leaked.
      clock += 11_000;
      const replay = await caller(platform)("POST", "/auth/v1/token?grant_type=refresh_token", { body: { refresh_token: user.refreshToken } });
      expect(await errorOf(replay)).toMatchObject({ status: 401, code: "invalid_token" });

      expect(await errorOf(await me(platform, user.token))).toMatchObject({ status: 401, code: "invalid_token" });
      expect((await user.supabase.auth.refreshSession()).error).toMatchObject({ status: 401 });
    } finally {
      await platform.close();
    }
  });
});
