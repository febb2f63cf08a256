import { withSystem } from "../db/scopes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, confirmEmail, createTestPlatform, errorOf, invitationTokenFor, latestMail, signUp, type TestPlatform } from "../test-support/test-platform";
import type { InvitationView } from "./invitations";
import type { MemberView } from "./members";

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let owner: { token: string; userId: string; tenantId: string };
let admin: { token: string; userId: string; tenantId: string };
let member: { token: string; userId: string; tenantId: string };

async function invite(email: string, role: string, token = owner.token) {
  const response = await call("POST", "/api/invitations", { token, body: { email, role } });
  return { response, body: (await response.clone().json()) as { invitation: InvitationView; delivery: string } };
}

beforeAll(async () => {
  gateway = await startFakeGateway();
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  call = caller(platform);
  owner = await signUp(platform, "olivia@example.com");
  admin = await signUp(platform, "adam@example.com");
  member = await signUp(platform, "mia@example.com");
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

describe("organisations, invitations and roles", () => {
  it("mails an invitation to the address only, and only its confirmed owner joins by accepting", async () => {
    const { response, body } = await invite("Adam@Example.com", "admin");
    expect(response.status).toBe(201);
    expect(body.invitation).toMatchObject({ email: "adam@example.com", role: "admin", invitedBy: owner.userId });
    // The answer carries no token: the link goes to the invited address alone.
    expect(JSON.stringify(body)).not.toMatch(/token/i);
    expect(body.delivery).toBe("outbox");
    const mail = await latestMail(platform, "adam@example.com");
    expect(mail.subject).toBe("olivia@example.com invited you to join olivia's organisation on Workforce");
    expect(mail.text).toContain("as an admin");
    expect(mail.link).toMatch(/^http:\/\/platform\.test\/invite\//);
    const token = await invitationTokenFor(platform, "adam@example.com");
    const stored = await withSystem(platform.database.system, (trx) => trx.selectFrom("invitations").select("token_hash").executeTakeFirstOrThrow());
    expect(stored.token_hash).not.toContain(token);

    const preview = await call("POST", "/api/invitations/preview", { body: { token } });
    expect(await preview.json()).toEqual({
      invitation: { organisation: "olivia's organisation", inviterEmail: "olivia@example.com", email: "adam@example.com", role: "admin", expiresAt: expect.any(String) },
    });

    const wrongUser = await call("POST", "/api/invitations/accept", { token: member.token, body: { token } });
    expect(await errorOf(wrongUser)).toMatchObject({ status: 403, code: "forbidden" });
    // Holding the link is not enough: the address must be confirmed.
    const unconfirmed = await call("POST", "/api/invitations/accept", { token: admin.token, body: { token } });
    expect(await errorOf(unconfirmed)).toMatchObject({ status: 403, code: "email_not_confirmed" });
    await confirmEmail(platform, "adam@example.com");

    const accepted = await call("POST", "/api/invitations/accept", { token: admin.token, body: { token } });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ tenant: { id: owner.tenantId, name: "olivia's organisation", role: "admin" } });
    const again = await call("POST", "/api/invitations/accept", { token: admin.token, body: { token } });
    expect(again.status).toBe(404);

    const tenants = (await (await call("GET", "/api/tenants", { token: admin.token })).json()) as { tenants: { id: string; role: string }[] };
    expect(tenants.tenants.map((tenant) => tenant.role)).toEqual(["owner", "admin"]);
    expect((await call("POST", "/api/invitations/preview", { body: { token } })).status).toBe(404);
    // Switch organisations with X-Tenant-ID.
    const members = await call("GET", "/api/members", { token: admin.token, headers: { "x-tenant-id": owner.tenantId } });
    const list = ((await members.json()) as { members: MemberView[] }).members;
    expect(list.map((entry) => [entry.email, entry.role])).toEqual([
      ["olivia@example.com", "owner"],
      ["adam@example.com", "admin"],
    ]);
  });

  it("lets an admin invite members but not owners, and refuses duplicates", async () => {
    const asAdmin = { "x-tenant-id": owner.tenantId };
    const ownerInvite = await call("POST", "/api/invitations", { token: admin.token, headers: asAdmin, body: { email: "x@example.com", role: "owner" } });
    expect(ownerInvite.status).toBe(403);
    const memberInvite = await call("POST", "/api/invitations", { token: admin.token, headers: asAdmin, body: { email: "mia@example.com", role: "member" } });
    expect(memberInvite.status).toBe(201);
    await confirmEmail(platform, "mia@example.com");
    const token = await invitationTokenFor(platform, "mia@example.com");
    expect((await call("POST", "/api/invitations/accept", { token: member.token, body: { token } })).status).toBe(200);
    const duplicate = await invite("mia@example.com", "member");
    expect(await errorOf(duplicate.response)).toMatchObject({ status: 409, code: "conflict" });
    const badEmail = await call("POST", "/api/invitations", { token: owner.token, body: { email: "nope", role: "member" } });
    expect((await errorOf(badEmail)).message).toMatch(/^email:/);
  });

  it("keeps members out of admin routes", async () => {
    const headers = { "x-tenant-id": owner.tenantId };
    for (const [method, path, body] of [
      ["GET", "/api/invitations", undefined],
      ["POST", "/api/invitations", { email: "z@example.com" }],
      ["GET", "/api/keys", undefined],
      ["POST", "/api/keys", { name: "k" }],
      ["GET", "/api/audit", undefined],
      ["PATCH", "/api/tenant", { name: "Mine now" }],
      ["PATCH", `/api/members/${admin.userId}`, { role: "member" }],
      ["DELETE", `/api/members/${admin.userId}`, undefined],
    ] as const) {
      const response = await call(method, path, { token: member.token, headers, body });
      expect({ path, method, status: response.status }).toEqual({ path, method, status: 403 });
    }
    expect((await call("GET", "/api/members", { token: member.token, headers })).status).toBe(200);
  });

  it("only owners touch the owner role, and the last owner cannot leave", async () => {
    const headers = { "x-tenant-id": owner.tenantId };
    const adminPromotes = await call("PATCH", `/api/members/${member.userId}`, { token: admin.token, headers, body: { role: "owner" } });
    expect(adminPromotes.status).toBe(403);
    const adminDemotesOwner = await call("PATCH", `/api/members/${owner.userId}`, { token: admin.token, headers, body: { role: "member" } });
    expect(adminDemotesOwner.status).toBe(403);
    const lastOwner = await call("PATCH", `/api/members/${owner.userId}`, { token: owner.token, body: { role: "admin" } });
    expect(await errorOf(lastOwner)).toMatchObject({ status: 409, code: "last_owner" });
    expect(await errorOf(await call("DELETE", `/api/members/${owner.userId}`, { token: owner.token }))).toMatchObject({ status: 409, code: "last_owner" });
    const badRole = await call("PATCH", `/api/members/${member.userId}`, { token: owner.token, body: { role: "god" } });
    expect((await errorOf(badRole)).message).toMatch(/^role:/);

    const promoted = await call("PATCH", `/api/members/${member.userId}`, { token: owner.token, body: { role: "admin" } });
    expect(((await promoted.json()) as { member: MemberView }).member).toMatchObject({ userId: member.userId, role: "admin" });
    const leave = await call("DELETE", `/api/members/${member.userId}`, { token: member.token, headers });
    expect(leave.status).toBe(204);
    expect((await call("GET", "/api/members", { token: member.token, headers })).status).toBe(403);
  });

  it("creates and renames organisations, and records everything in the audit log", async () => {
    const created = await call("POST", "/api/tenants", { token: member.token, body: { name: "Side project" } });
    expect(created.status).toBe(201);
    const { tenant } = (await created.json()) as { tenant: { id: string; name: string; role: string } };
    expect(tenant).toMatchObject({ name: "Side project", role: "owner" });
    const renamed = await call("PATCH", "/api/tenant", { token: member.token, headers: { "x-tenant-id": tenant.id }, body: { name: "Main project" } });
    expect(await renamed.json()).toEqual({ tenant: { id: tenant.id, name: "Main project", role: "owner" } });

    const log = (await (await call("GET", "/api/audit", { token: owner.token })).json()) as { entries: { action: string; actor: { type: string } }[] };
    expect(log.entries.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(["invitation.create", "invitation.accept", "member.role_change", "member.leave"]),
    );
    expect(log.entries.map((entry) => entry.action)).not.toContain("tenant.rename");
  });
});
