/**
 * A forgotten password, as a user goes through it with supabase-js: `resetPasswordForEmail`
 * mails a link to the web app's /auth/confirm and a code; following the link (`verifyOtp` with
 * its token_hash) signs in for recovery, and `updateUser({ password })` sets the new password.
 */
import type { AuthChangeEvent } from "@supabase/supabase-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listOutbox } from "../mail/outbox-store";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, latestMail, supabaseClient, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";

const OLD = "correct horse battery";
const NEW = "a brand new passphrase";

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

async function signedUp(email: string) {
  const supabase = supabaseClient(platform);
  const result = await supabase.auth.signUp({ email, password: OLD });
  expect(result.error).toBeNull();
  return { supabase, session: result.data.session! };
}

async function resetMail(email: string) {
  const mail = await latestMail(platform, email, /Reset your Workforce password/);
  const url = new URL(mail.link!);
  return { ...mail, url, tokenHash: url.searchParams.get("token_hash")! };
}

const signIn = (email: string, password: string) => supabaseClient(platform).auth.signInWithPassword({ email, password });

describe("resetting a forgotten password", () => {
  it("mails a link to /auth/confirm on PUBLIC_URL; following it signs in for recovery, and the new password is set without a nonce", async () => {
    const before = await signedUp("rita@example.com");

    const requested = await supabaseClient(platform).auth.resetPasswordForEmail("Rita@Example.com");
    expect(requested.error).toBeNull();

    const mail = await resetMail("rita@example.com");
    expect(`${mail.url.origin}${mail.url.pathname}`).toBe(`${TEST_ORIGIN}/auth/confirm`);
    expect(mail.url.searchParams.get("type")).toBe("recovery");
    expect(mail.code).toMatch(/^\d{6}$/);

    const browser = supabaseClient(platform);
    const events: AuthChangeEvent[] = [];
    browser.auth.onAuthStateChange((event) => events.push(event));
    const verified = await browser.auth.verifyOtp({ token_hash: mail.tokenHash, type: "recovery" });
    expect(verified.error).toBeNull();
    expect(verified.data.session?.user.email).toBe("rita@example.com");
    expect(events).toContain("PASSWORD_RECOVERY");

    const changed = await browser.auth.updateUser({ password: NEW });
    expect(changed.error).toBeNull();
    expect((await signIn("rita@example.com", OLD)).error).toMatchObject({ code: "invalid_credentials" });
    expect((await signIn("rita@example.com", NEW)).error).toBeNull();
    // Whoever was signed in before the reset (perhaps whoever guessed the old password) is out.
    expect(await errorOf(await caller(platform)("GET", "/api/me", { token: before.session.access_token }))).toMatchObject({ status: 401, code: "invalid_token" });

    // The link works once.
    const reused = await supabaseClient(platform).auth.verifyOtp({ token_hash: mail.tokenHash, type: "recovery" });
    expect(reused.error).toMatchObject({ status: 403, code: "otp_expired" });
  });

  it("signs in with the mailed code instead of the link", async () => {
    await signedUp("carl@example.com");
    expect((await supabaseClient(platform).auth.resetPasswordForEmail("carl@example.com")).error).toBeNull();
    const mail = await resetMail("carl@example.com");

    const browser = supabaseClient(platform);
    const verified = await browser.auth.verifyOtp({ email: "carl@example.com", token: mail.code!, type: "recovery" });
    expect(verified.error).toBeNull();
    expect((await browser.auth.updateUser({ password: NEW })).error).toBeNull();
    expect((await signIn("carl@example.com", NEW)).error).toBeNull();
  });

  it("answers an unknown address exactly like a known one, and mails nothing", async () => {
    await signedUp("known@example.com");
    const known = await caller(platform)("POST", "/auth/v1/recover", { body: { email: "known@example.com" } });
    const unknown = await caller(platform)("POST", "/auth/v1/recover", { body: { email: "nobody@example.com" } });
    expect([known.status, unknown.status]).toEqual([200, 200]);
    expect(await unknown.json()).toEqual(await known.json());
    expect((await supabaseClient(platform).auth.resetPasswordForEmail("nobody2@example.com")).error).toBeNull();

    const { entries } = await listOutbox(platform.outboxDir);
    expect(entries.filter((entry) => entry.to.startsWith("nobody"))).toEqual([]);
    expect(entries.filter((entry) => entry.to === "known@example.com" && /Reset/.test(entry.subject))).toHaveLength(1);
  });

  it("expires an hour after it was mailed", async () => {
    let clock = Date.now();
    const dated = await createTestPlatform({ gatewayUrl: gateway.url, parts: { now: () => new Date(clock) } });
    try {
      expect((await supabaseClient(dated).auth.signUp({ email: "late@example.com", password: OLD })).error).toBeNull();
      expect((await supabaseClient(dated).auth.resetPasswordForEmail("late@example.com")).error).toBeNull();
      const mail = await latestMail(dated, "late@example.com", /Reset your Workforce password/);
      clock += 60 * 60_000 + 1_000;
      const late = await supabaseClient(dated).auth.verifyOtp({ token_hash: new URL(mail.link!).searchParams.get("token_hash")!, type: "recovery" });
      expect(late.error).toMatchObject({ status: 403, code: "otp_expired" });
      const lateCode = await supabaseClient(dated).auth.verifyOtp({ email: "late@example.com", token: mail.code!, type: "recovery" });
      expect(lateCode.error).toMatchObject({ status: 403, code: "otp_expired" });
    } finally {
      await dated.close();
    }
  });

  it("stops working after five wrong codes, even for the right one", async () => {
    await signedUp("guess@example.com");
    expect((await supabaseClient(platform).auth.resetPasswordForEmail("guess@example.com")).error).toBeNull();
    const { code } = await resetMail("guess@example.com");
    const wrong = (n: number) => String((Number(code) + n) % 1_000_000).padStart(6, "0");

    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const guess = await supabaseClient(platform).auth.verifyOtp({ email: "guess@example.com", token: wrong(attempt), type: "recovery" });
      expect(guess.error).toMatchObject({ status: 403, code: "otp_expired" });
    }
    const right = await supabaseClient(platform).auth.verifyOtp({ email: "guess@example.com", token: code!, type: "recovery" });
    expect(right.error).toMatchObject({ status: 403, code: "otp_expired" });
    expect((await signIn("guess@example.com", OLD)).error).toBeNull();
  });
});
