/**
 * Changing the email address with supabase-js `updateUser({ email })`: nothing changes until the
 * new address confirms, with the mailed code or the mailed link; then only the new address signs in.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listOutbox } from "../mail/outbox-store";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, latestMail, supabaseClient, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";

const PASSWORD = "correct horse battery";

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
  expect((await supabase.auth.signUp({ email, password: PASSWORD })).error).toBeNull();
  return supabase;
}

const signIn = (email: string) => supabaseClient(platform).auth.signInWithPassword({ email, password: PASSWORD });

/** The mail asking `to` to confirm itself as the new address, with its link's token_hash. */
async function changeMail(to: string) {
  const mail = await latestMail(platform, to, /new email address/);
  const link = new URL(mail.link!);
  return { ...mail, url: link, tokenHash: link.searchParams.get("token_hash")! };
}

describe("changing the email address", () => {
  it("waits for the code mailed to the new address, then signs in with the new address only", async () => {
    const supabase = await signedUp("ann@example.com");

    const requested = await supabase.auth.updateUser({ email: "Ann.New@Example.com" });
    expect(requested.error).toBeNull();
    expect(requested.data.user).toMatchObject({ email: "ann@example.com", new_email: "ann.new@example.com" });
    expect((await supabase.auth.getUser()).data.user).toMatchObject({ email: "ann@example.com", new_email: "ann.new@example.com" });

    const mail = await changeMail("ann.new@example.com");
    expect(mail.code).toMatch(/^\d{6}$/);
    expect(`${mail.url.origin}${mail.url.pathname}`).toBe(`${TEST_ORIGIN}/auth/confirm`);
    expect(mail.url.searchParams.get("type")).toBe("email_change");
    // The link goes to the new address only: the old one never receives it.
    const { entries } = await listOutbox(platform.outboxDir);
    expect(entries.filter((entry) => entry.to === "ann@example.com" && /new email address/.test(entry.subject))).toEqual([]);
    // Until confirmed, the old address is still the one that signs in.
    expect((await signIn("ann@example.com")).error).toBeNull();
    expect((await signIn("ann.new@example.com")).error).toMatchObject({ code: "invalid_credentials" });

    const verified = await supabaseClient(platform).auth.verifyOtp({ email: "ann.new@example.com", token: mail.code!, type: "email_change" });
    expect(verified.error).toBeNull();
    expect(verified.data.session?.user.email).toBe("ann.new@example.com");
    expect(verified.data.user?.new_email).toBeUndefined();

    expect((await signIn("ann.new@example.com")).error).toBeNull();
    expect((await signIn("ann@example.com")).error).toMatchObject({ status: 400, code: "invalid_credentials" });
    const me = await caller(platform)("GET", "/api/me", { token: verified.data.session!.access_token });
    expect(((await me.json()) as { user: { email: string; emailConfirmed: boolean } }).user).toMatchObject({ email: "ann.new@example.com", emailConfirmed: true });
  });

  it("switches the address when the mailed link (token_hash) is followed", async () => {
    const supabase = await signedUp("ben@example.com");
    expect((await supabase.auth.updateUser({ email: "ben.new@example.com" })).error).toBeNull();
    const mail = await changeMail("ben.new@example.com");

    const verified = await supabaseClient(platform).auth.verifyOtp({ token_hash: mail.tokenHash, type: "email_change" });
    expect(verified.error).toBeNull();
    expect(verified.data.user?.email).toBe("ben.new@example.com");
    expect((await signIn("ben.new@example.com")).error).toBeNull();
    expect((await signIn("ben@example.com")).error).toMatchObject({ code: "invalid_credentials" });

    // The link works once.
    const again = await supabaseClient(platform).auth.verifyOtp({ token_hash: mail.tokenHash, type: "email_change" });
    expect(again.error).toMatchObject({ status: 403, code: "otp_expired" });
  });

  it("mails the new address again on resend, and only the newest code works", async () => {
    const supabase = await signedUp("eve@example.com");
    expect((await supabase.auth.updateUser({ email: "eve.new@example.com" })).error).toBeNull();
    const first = await changeMail("eve.new@example.com");

    expect((await supabaseClient(platform).auth.resend({ type: "email_change", email: "eve.new@example.com" })).error).toBeNull();
    const second = await changeMail("eve.new@example.com");
    expect(second.tokenHash).not.toBe(first.tokenHash);

    expect((await supabaseClient(platform).auth.verifyOtp({ token_hash: first.tokenHash, type: "email_change" })).error).toMatchObject({ code: "otp_expired" });
    const verified = await supabaseClient(platform).auth.verifyOtp({ email: "eve.new@example.com", token: second.code!, type: "email_change" });
    expect(verified.error).toBeNull();
    expect(verified.data.user?.email).toBe("eve.new@example.com");
  });

  it("refuses an address another account has", async () => {
    await signedUp("cat@example.com");
    const supabase = await signedUp("dan@example.com");
    const taken = await supabase.auth.updateUser({ email: "CAT@example.com" });
    expect(taken.error).toMatchObject({ status: 422, code: "email_taken" });
    expect((await supabase.auth.getUser()).data.user?.new_email).toBeUndefined();
  });
});
