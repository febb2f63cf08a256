/**
 * Changing the password with supabase-js `updateUser({ password })`: the user's other sign-ins
 * end, the old password stops working, a notice is mailed; a sign-in older than a day must
 * first prove itself with a mailed code (`reauthenticate()` → `nonce`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, latestMail, supabaseClient, type TestPlatform } from "../test-support/test-platform";

const OLD = "correct horse battery";
const NEW = "tr0ub4dor & three";

let gateway: FakeGateway;

beforeAll(async () => {
  gateway = await startFakeGateway();
});
afterAll(async () => {
  await gateway.close();
});

const signInStatus = async (platform: TestPlatform, email: string, password: string) =>
  (await caller(platform)("POST", "/auth/v1/token?grant_type=password", { body: { email, password } })).status;

describe("changing the password of a fresh sign-in", () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform({ gatewayUrl: gateway.url });
  });
  afterAll(async () => {
    await platform.close();
  });

  it("signs out the user's other sessions, swaps the passwords and mails a notice", async () => {
    const laptop = supabaseClient(platform);
    expect((await laptop.auth.signUp({ email: "pat@example.com", password: OLD })).error).toBeNull();
    const phone = supabaseClient(platform);
    const phoneSession = (await phone.auth.signInWithPassword({ email: "pat@example.com", password: OLD })).data.session!;

    const changed = await laptop.auth.updateUser({ password: NEW });
    expect(changed.error).toBeNull();
    expect(changed.data.user?.email).toBe("pat@example.com");

    // The phone is signed out: its refresh fails and its unexpired access token is refused.
    expect((await phone.auth.refreshSession()).error).toMatchObject({ status: 401, code: "invalid_token" });
    expect(await errorOf(await caller(platform)("GET", "/api/me", { token: phoneSession.access_token }))).toMatchObject({ status: 401, code: "invalid_token" });
    // The laptop, which made the change, stays signed in.
    const laptopToken = (await laptop.auth.getSession()).data.session!.access_token;
    expect((await caller(platform)("GET", "/api/me", { token: laptopToken })).status).toBe(200);
    expect((await laptop.auth.getUser()).error).toBeNull();

    const withOld = await supabaseClient(platform).auth.signInWithPassword({ email: "pat@example.com", password: OLD });
    expect(withOld.error).toMatchObject({ status: 400, code: "invalid_credentials" });
    expect((await supabaseClient(platform).auth.signInWithPassword({ email: "pat@example.com", password: NEW })).error).toBeNull();

    const notice = await latestMail(platform, "pat@example.com", /password was changed/);
    expect(notice.subject).toBe("Your Workforce password was changed");
    expect(notice.text).toContain("pat@example.com");
    // A notice, not a link anyone could be phished into following.
    expect(notice.link).toBeUndefined();
  });

  it("refuses the same password again, and one too short", async () => {
    const supabase = supabaseClient(platform);
    expect((await supabase.auth.signUp({ email: "sam@example.com", password: OLD })).error).toBeNull();

    const same = await supabase.auth.updateUser({ password: OLD });
    expect(same.error).toMatchObject({ status: 422, code: "same_password" });
    const short = await supabase.auth.updateUser({ password: "1234567" });
    expect(short.error).toMatchObject({ status: 422, code: "weak_password" });
    expect(short.error?.message).toMatch(/at least 8 characters/);

    // Nothing changed.
    expect(await signInStatus(platform, "sam@example.com", OLD)).toBe(200);
  });
});

describe("changing the password of a sign-in older than a day", () => {
  let clock = Date.now();
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { now: () => new Date(clock) } });
  });
  afterAll(async () => {
    await platform.close();
  });

  it("needs the code mailed by reauthenticate(), sent as nonce", async () => {
    const supabase = supabaseClient(platform);
    expect((await supabase.auth.signUp({ email: "old@example.com", password: OLD })).error).toBeNull();
    // The sign-in was yesterday (the access token itself, issued just now, is still valid).
    clock += 25 * 60 * 60_000;

    const refused = await supabase.auth.updateUser({ password: NEW });
    expect(refused.error).toMatchObject({ status: 400, code: "reauthentication_needed" });

    expect((await supabase.auth.reauthenticate()).error).toBeNull();
    const mail = await latestMail(platform, "old@example.com", /confirmation code/);
    expect(mail.code).toMatch(/^\d{6}$/);

    const wrongCode = mail.code === "000000" ? "111111" : "000000";
    const wrong = await supabase.auth.updateUser({ password: NEW, nonce: wrongCode });
    expect(wrong.error).toMatchObject({ status: 400 });
    expect(await signInStatus(platform, "old@example.com", NEW)).toBe(400);

    const changed = await supabase.auth.updateUser({ password: NEW, nonce: mail.code! });
    expect(changed.error).toBeNull();
    expect(await signInStatus(platform, "old@example.com", OLD)).toBe(400);
    expect(await signInStatus(platform, "old@example.com", NEW)).toBe(200);

    // The code is single-use.
    const again = await supabase.auth.updateUser({ password: "a third password", nonce: mail.code! });
    expect(again.error).toMatchObject({ status: 400, code: "reauthentication_needed" });
  });

  it("does not tell a sign-in that needs reauthentication whether a guess is the current password", async () => {
    // Whoever holds a day-old session's access token (a shared computer, a leaked token) must
    // not be able to test passwords here, unthrottled, by telling same_password from the rest.
    const supabase = supabaseClient(platform);
    expect((await supabase.auth.signUp({ email: "guarded@example.com", password: OLD })).error).toBeNull();
    clock += 25 * 60 * 60_000;
    const rightGuess = await supabase.auth.updateUser({ password: OLD });
    const wrongGuess = await supabase.auth.updateUser({ password: "not the password" });
    expect(rightGuess.error).toMatchObject({ status: 400, code: "reauthentication_needed" });
    expect(wrongGuess.error).toMatchObject({ status: 400, code: "reauthentication_needed" });
    expect(rightGuess.error?.message).toBe(wrongGuess.error?.message);
  });
});
