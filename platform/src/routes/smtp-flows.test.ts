/**
 * The account mails over real SMTP, end to end: a platform whose mailer talks to an in-process
 * SMTP server, and a user who follows the links in the messages that server received.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readdir } from "node:fs/promises";
import { createSmtpMailer } from "../mail/smtp-mailer";
import { startTestSmtpServer, type ReceivedMail, type TestSmtpServer } from "../mail/test-smtp-server";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, signUp, supabaseClient, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";

const PASSWORD = "correct horse battery";

let gateway: FakeGateway;
let smtp: TestSmtpServer;
let platform: TestPlatform;

beforeAll(async () => {
  gateway = await startFakeGateway();
  smtp = await startTestSmtpServer();
  platform = await createTestPlatform({
    gatewayUrl: gateway.url,
    parts: {
      mailer: createSmtpMailer({ smtpUrl: smtp.url, from: "Workforce <no-reply@platform.test>", logError: (message, detail) => console.error(message, detail) }),
      outboxDir: undefined,
      confirmation: "required",
    },
  });
  // The installation's first account (its operator) is confirmed from the start and mailed nothing.
  await signUp(platform, "operator@example.com");
});
afterAll(async () => {
  await platform.close();
  await smtp.close();
  await gateway.close();
});

/** The newest message the SMTP server received for `to` whose subject matches. */
function received(to: string, subject: RegExp): ReceivedMail {
  const mail = smtp.received.filter((message) => message.envelopeTo.includes(to) && subject.test(message.parsed.subject ?? "")).at(-1);
  if (!mail) throw new Error(`the SMTP server received no mail to ${to} matching ${String(subject)}`);
  return mail;
}

/** The first link in a received message's text. */
function linkIn(mail: ReceivedMail): URL {
  const link = /https?:\/\/\S+/.exec(mail.parsed.text ?? "")?.[0];
  if (!link) throw new Error(`the mail "${mail.parsed.subject ?? ""}" has no link`);
  return new URL(link);
}

describe("account mails over SMTP", () => {
  let owner: { accessToken: string };

  it("confirms a new account with the link in the message the SMTP server received", async () => {
    const supabase = supabaseClient(platform);
    const signUp = await supabase.auth.signUp({ email: "sue@example.com", password: PASSWORD });
    expect(signUp.error).toBeNull();
    expect(signUp.data.session).toBeNull();

    const mail = received("sue@example.com", /Confirm your email address/);
    const link = linkIn(mail);
    expect(mail.envelopeFrom).toBe("no-reply@platform.test");
    expect(mail.parsed.html).toContain("Confirm my email address");
    expect(`${link.origin}${link.pathname}`).toBe(`${TEST_ORIGIN}/auth/confirm`);
    expect(link.searchParams.get("type")).toBe("signup");

    // What the web app's /auth/confirm page does with the link.
    const verified = await supabase.auth.verifyOtp({ token_hash: link.searchParams.get("token_hash")!, type: "signup" });
    expect(verified.error).toBeNull();
    expect(verified.data.session?.user.email).toBe("sue@example.com");
    owner = { accessToken: verified.data.session!.access_token };

    // Nothing went to a local outbox, and none is served (/outbox is just a web app route).
    expect(await readdir(platform.outboxDir)).toEqual([]);
    expect(await (await caller(platform)("GET", "/outbox")).text()).not.toContain("sue@example.com");
  });

  it("delivers an invitation whose link signs the invited person up into the organisation", async () => {
    const invited = await caller(platform)("POST", "/api/invitations", { token: owner.accessToken, body: { email: "tom@example.com", role: "admin" } });
    expect(invited.status).toBe(201);
    expect(((await invited.json()) as { delivery: string }).delivery).toBe("email");

    const mail = received("tom@example.com", /invited you/);
    const link = linkIn(mail);
    expect(mail.parsed.subject).toBe("sue@example.com invited you to join sue's organisation on Workforce");
    expect(link.pathname).toMatch(/^\/invite\//);
    const token = decodeURIComponent(link.pathname.slice("/invite/".length));

    const signUp = await supabaseClient(platform).auth.signUp({ email: "tom@example.com", password: PASSWORD, options: { data: { invitation_token: token } } });
    expect(signUp.error).toBeNull();
    const me = await caller(platform)("GET", "/api/me", { token: signUp.data.session!.access_token });
    expect(((await me.json()) as { tenants: { name: string; role: string }[] }).tenants).toEqual([expect.objectContaining({ name: "sue's organisation", role: "admin" })]);
  });

  it("delivers a password reset whose link lets the user choose a new password", async () => {
    expect((await supabaseClient(platform).auth.resetPasswordForEmail("sue@example.com")).error).toBeNull();
    const link = linkIn(received("sue@example.com", /Reset your Workforce password/));
    expect(link.searchParams.get("type")).toBe("recovery");

    const browser = supabaseClient(platform);
    expect((await browser.auth.verifyOtp({ token_hash: link.searchParams.get("token_hash")!, type: "recovery" })).error).toBeNull();
    expect((await browser.auth.updateUser({ password: "chosen after the reset" })).error).toBeNull();
    expect((await supabaseClient(platform).auth.signInWithPassword({ email: "sue@example.com", password: "chosen after the reset" })).error).toBeNull();
    expect(received("sue@example.com", /password was changed/).parsed.text).toContain("sue@example.com");
  });
});
