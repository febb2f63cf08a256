/**
 * Confirming the address an account signed up with (WORKFORCE_EMAIL_CONFIRMATION), through
 * supabase-js: `required` signs in only once the mailed code or link was used; `optional` signs
 * in at once and reports the address as unconfirmed until then.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listOutbox } from "../mail/outbox-store";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, latestMail, signUp as signUpOperator, supabaseClient, type TestPlatform } from "../test-support/test-platform";

const PASSWORD = "correct horse battery";

let gateway: FakeGateway;

beforeAll(async () => {
  gateway = await startFakeGateway();
});
afterAll(async () => {
  await gateway.close();
});

async function confirmationMail(platform: TestPlatform, email: string) {
  const mail = await latestMail(platform, email, /^Confirm your email address/);
  return { ...mail, tokenHash: new URL(mail.link!).searchParams.get("token_hash")! };
}

async function emailConfirmed(platform: TestPlatform, token: string): Promise<boolean> {
  const me = await caller(platform)("GET", "/api/me", { token });
  expect(me.status).toBe(200);
  return ((await me.json()) as { user: { emailConfirmed: boolean } }).user.emailConfirmed;
}

describe("with confirmation required", () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { confirmation: "required" } });
    // The installation's first account (its operator) is confirmed from the start; the others are what this is about.
    await signUpOperator(platform, "operator@example.com");
  });
  afterAll(async () => {
    await platform.close();
  });

  it("signs up without a session, refuses to sign in, and signs in with the mailed code", async () => {
    const supabase = supabaseClient(platform);
    const signUp = await supabase.auth.signUp({ email: "vera@example.com", password: PASSWORD });
    expect(signUp.error).toBeNull();
    expect(signUp.data.session).toBeNull();
    expect(signUp.data.user).toMatchObject({ email: "vera@example.com", email_confirmed_at: null });
    expect(signUp.data.user?.confirmation_sent_at).toEqual(expect.any(String));

    const early = await supabaseClient(platform).auth.signInWithPassword({ email: "vera@example.com", password: PASSWORD });
    expect(early.error).toMatchObject({ status: 403, code: "email_not_confirmed" });
    expect(early.data.session).toBeNull();

    const mail = await confirmationMail(platform, "vera@example.com");
    const verified = await supabase.auth.verifyOtp({ email: "vera@example.com", token: mail.code!, type: "signup" });
    expect(verified.error).toBeNull();
    expect(verified.data.session?.user.email_confirmed_at).toEqual(expect.any(String));
    expect(await emailConfirmed(platform, verified.data.session!.access_token)).toBe(true);

    expect((await supabaseClient(platform).auth.signInWithPassword({ email: "vera@example.com", password: PASSWORD })).error).toBeNull();
  });

  it("resends the confirmation: a new mail whose link works, while the old one no longer does", async () => {
    expect((await supabaseClient(platform).auth.signUp({ email: "walt@example.com", password: PASSWORD })).error).toBeNull();
    const first = await confirmationMail(platform, "walt@example.com");

    const resent = await supabaseClient(platform).auth.resend({ type: "signup", email: "walt@example.com" });
    expect(resent.error).toBeNull();
    const { entries } = await listOutbox(platform.outboxDir);
    expect(entries.filter((entry) => entry.to === "walt@example.com" && /^Confirm your email address/.test(entry.subject))).toHaveLength(2);
    const second = await confirmationMail(platform, "walt@example.com");
    expect(second.tokenHash).not.toBe(first.tokenHash);

    const stale = await supabaseClient(platform).auth.verifyOtp({ token_hash: first.tokenHash, type: "signup" });
    expect(stale.error).toMatchObject({ status: 403, code: "otp_expired" });
    const fresh = await supabaseClient(platform).auth.verifyOtp({ token_hash: second.tokenHash, type: "signup" });
    expect(fresh.error).toBeNull();
    expect(fresh.data.session?.user.email).toBe("walt@example.com");
  });
});

describe("with confirmation optional", () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { confirmation: "optional" } });
    await signUpOperator(platform, "operator@example.com");
  });
  afterAll(async () => {
    await platform.close();
  });

  it("signs up with a session and reports the address unconfirmed until the link is followed", async () => {
    const supabase = supabaseClient(platform);
    const signUp = await supabase.auth.signUp({ email: "xena@example.com", password: PASSWORD });
    expect(signUp.error).toBeNull();
    const token = signUp.data.session!.access_token;
    expect(await emailConfirmed(platform, token)).toBe(false);

    const mail = await confirmationMail(platform, "xena@example.com");
    expect((await supabaseClient(platform).auth.verifyOtp({ token_hash: mail.tokenHash, type: "signup" })).error).toBeNull();
    // The session from before is unchanged, and now sees the address confirmed.
    expect(await emailConfirmed(platform, token)).toBe(true);
    expect((await supabase.auth.getUser()).data.user?.email_confirmed_at).toEqual(expect.any(String));
  });
});
