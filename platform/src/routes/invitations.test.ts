/**
 * Invitations as the invited person meets them: a mail naming the organisation, the inviter and
 * the role; a preview of the link before signing in that stops working once the invitation is
 * used, revoked or expired; joining only with a confirmed address. And an invitation that cannot
 * be mailed is not left behind.
 */
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSystem } from "../db/scopes";
import { createSmtpMailer } from "../mail/smtp-mailer";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, invitationTokenFor, latestMail, signUp, supabaseClient, type TestPlatform } from "../test-support/test-platform";
import type { InvitationView } from "./invitations";

type Who = { token: string; userId: string; tenantId: string };

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let owner: Who;

beforeAll(async () => {
  gateway = await startFakeGateway();
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  call = caller(platform);
  owner = await signUp(platform, "olivia@example.com");
  const renamed = await call("PATCH", "/api/tenant", { token: owner.token, body: { name: "Acme Research" } });
  expect(renamed.status).toBe(200);
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

async function invite(email: string, role: string, on: TestPlatform = platform, extra: { replace?: boolean } = {}) {
  return caller(on)("POST", "/api/invitations", { token: owner.token, body: { email, role, ...extra } });
}

const preview = (token: string) => call("POST", "/api/invitations/preview", { body: { token } });

async function pending(): Promise<InvitationView[]> {
  const response = await call("GET", "/api/invitations", { token: owner.token });
  return ((await response.json()) as { invitations: InvitationView[] }).invitations;
}

/** A loopback port nothing listens on: an SMTP server that is down. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("an invitation", () => {
  it("is mailed naming the organisation, the inviter and the role, and previewed the same before signing in", async () => {
    expect((await invite("ida@example.com", "admin")).status).toBe(201);
    const mail = await latestMail(platform, "ida@example.com", /invited you/);
    expect(mail.subject).toBe("olivia@example.com invited you to join Acme Research on Workforce");
    expect(mail.text).toContain("olivia@example.com invited you to join Acme Research on Workforce as an admin.");
    expect(mail.link).toMatch(/^http:\/\/platform\.test\/invite\/[\w-]+$/);

    const response = await preview(await invitationTokenFor(platform, "ida@example.com"));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      invitation: { organisation: "Acme Research", inviterEmail: "olivia@example.com", email: "ida@example.com", role: "admin", expiresAt: expect.any(String) },
    });
  });

  it("can be accepted only once the invited address is confirmed, and is then used up", async () => {
    expect((await invite("jay@example.com", "member")).status).toBe(201);
    const token = await invitationTokenFor(platform, "jay@example.com");

    const jay = supabaseClient(platform);
    const signedUp = await jay.auth.signUp({ email: "jay@example.com", password: "correct horse battery" });
    expect(signedUp.error).toBeNull();
    const accept = (accessToken: string) => call("POST", "/api/invitations/accept", { token: accessToken, body: { token } });

    expect(await errorOf(await accept(signedUp.data.session!.access_token))).toMatchObject({ status: 403, code: "email_not_confirmed" });

    const confirmation = await latestMail(platform, "jay@example.com", /^Confirm your email address/);
    const verified = await jay.auth.verifyOtp({ email: "jay@example.com", token: confirmation.code!, type: "signup" });
    expect(verified.error).toBeNull();
    const accepted = await accept(verified.data.session!.access_token);
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ tenant: { id: owner.tenantId, name: "Acme Research", role: "member" } });

    expect(await errorOf(await preview(token))).toMatchObject({ status: 404, code: "not_found" });
  });

  it("stops previewing once revoked", async () => {
    const created = await invite("kai@example.com", "member");
    const { invitation } = (await created.json()) as { invitation: InvitationView };
    const token = await invitationTokenFor(platform, "kai@example.com");
    expect((await preview(token)).status).toBe(200);
    expect((await call("DELETE", `/api/invitations/${invitation.id}`, { token: owner.token })).status).toBe(204);
    expect(await errorOf(await preview(token))).toMatchObject({ status: 404, code: "not_found" });
  });

  it("asks before a new invitation changes the role of a pending one, and replaces it once confirmed", async () => {
    expect((await invite("noa@example.com", "member")).status).toBe(201);
    const first = await invitationTokenFor(platform, "noa@example.com");

    const unconfirmed = await invite("noa@example.com", "admin");
    expect(await errorOf(unconfirmed)).toMatchObject({ status: 409, code: "invitation_pending" });
    expect((await errorOf(await invite("noa@example.com", "admin"))).message).toContain("pending invitation as member");
    // Nothing changed: the link already mailed still works, for the role it named.
    expect((await pending()).filter((invitation) => invitation.email === "noa@example.com")).toEqual([expect.objectContaining({ role: "member" })]);
    expect((await preview(first)).status).toBe(200);

    // The same role again simply sends a fresh link.
    expect((await invite("noa@example.com", "member")).status).toBe(201);
    const confirmed = await invite("noa@example.com", "admin", platform, { replace: true });
    expect(confirmed.status).toBe(201);
    expect((await pending()).filter((invitation) => invitation.email === "noa@example.com")).toEqual([expect.objectContaining({ role: "admin" })]);
    expect(await errorOf(await preview(first))).toMatchObject({ status: 404 });

    // Another organisation's pending invitation to the address is none of this one's business.
    const other = await signUp(platform, "otis@example.com");
    expect((await call("POST", "/api/invitations", { token: other.token, body: { email: "noa@example.com", role: "member" } })).status).toBe(201);
  });

  it("stops previewing once expired (seven days)", async () => {
    let clock = Date.now();
    const dated = await createTestPlatform({ gatewayUrl: gateway.url, parts: { now: () => new Date(clock) } });
    try {
      const inviter = await signUp(dated, "ursula@example.com");
      expect((await caller(dated)("POST", "/api/invitations", { token: inviter.token, body: { email: "vic@example.com" } })).status).toBe(201);
      const token = await invitationTokenFor(dated, "vic@example.com");
      const datedPreview = () => caller(dated)("POST", "/api/invitations/preview", { body: { token } });
      clock += 7 * 24 * 60 * 60_000 - 60_000;
      expect((await datedPreview()).status).toBe(200);
      clock += 2 * 60_000;
      expect(await errorOf(await datedPreview())).toMatchObject({ status: 404, code: "not_found" });
    } finally {
      await dated.close();
    }
  });
});

describe("an invitation that cannot be mailed", () => {
  let unmailed: TestPlatform;
  const mailLog: string[] = [];

  beforeAll(async () => {
    // Another platform process on the same database, whose SMTP server is down.
    const port = await closedPort();
    unmailed = await createTestPlatform({
      gatewayUrl: gateway.url,
      database: platform.database,
      parts: {
        mailer: createSmtpMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: "Workforce <no-reply@platform.test>", logError: (message) => mailLog.push(message) }),
        outboxDir: undefined,
      },
    });
  });
  afterAll(async () => {
    await unmailed.close();
  });

  it("answers 503 mail_unavailable and leaves no pending invitation", async () => {
    const response = await invite("lou@example.com", "member", unmailed);
    const body = (await response.json()) as { error: { code: string; message: string; retryable?: boolean } };
    expect(response.status).toBe(503);
    expect(body.error).toMatchObject({ code: "mail_unavailable", retryable: true });
    expect(body.error.message).toMatch(/could not be reached/);
    expect(mailLog).toEqual([expect.stringContaining("mail to lou@example.com")]);

    expect((await pending()).map((invitation) => invitation.email)).not.toContain("lou@example.com");
    const rows = await withSystem(platform.database.system, (trx) => trx.selectFrom("invitations").select("id").where("email", "=", "lou@example.com").execute());
    expect(rows).toEqual([]);
  });

  it("keeps an earlier invitation to the same address working when sending the replacement fails", async () => {
    expect((await invite("mo@example.com", "member")).status).toBe(201);
    const token = await invitationTokenFor(platform, "mo@example.com");

    const replacement = await invite("mo@example.com", "admin", unmailed, { replace: true });
    expect(replacement.status).toBe(503);

    // The link already in Mo's inbox still works, for the role it named.
    expect((await pending()).filter((invitation) => invitation.email === "mo@example.com")).toEqual([expect.objectContaining({ role: "member" })]);
    const shown = (await (await preview(token)).json()) as { invitation: { role: string } };
    expect(shown.invitation.role).toBe("member");
  });
});
