/**
 * Who may create an account (WORKFORCE_SIGNUP), as a stranger meets it with supabase-js: the
 * installation's first account is always allowed and becomes its operator; `invite` admits only
 * an invitation's own address, which joins that organisation; `domains` admits listed domains;
 * `closed` admits nobody. And what a new organisation starts with (its default budget).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SignupPolicy } from "../auth/signup-policy";
import { withSystem } from "../db/scopes";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, confirmEmail, createTestPlatform, errorOf, invitationTokenFor, supabaseClient, type TestPlatform } from "../test-support/test-platform";

const PASSWORD = "correct horse battery";

interface Me {
  user: { id: string; email: string; emailConfirmed: boolean; operator: boolean };
  tenants: { id: string; name: string; role: string }[];
  canCreateOrganisation: boolean;
}

let gateway: FakeGateway;

beforeAll(async () => {
  gateway = await startFakeGateway();
});
afterAll(async () => {
  await gateway.close();
});

/** Runs `body` against a fresh installation with this sign-up policy. */
async function withInstallation(policy: SignupPolicy, body: (platform: TestPlatform) => Promise<void>, parts: Parameters<typeof createTestPlatform>[0]["parts"] = {}) {
  const platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { signup: policy, ...parts } });
  try {
    await body(platform);
  } finally {
    await platform.close();
  }
}

async function signUp(platform: TestPlatform, email: string, invitationToken?: string) {
  return supabaseClient(platform).auth.signUp({ email, password: PASSWORD, ...(invitationToken ? { options: { data: { invitation_token: invitationToken } } } : {}) });
}

async function me(platform: TestPlatform, token: string): Promise<Me> {
  const response = await caller(platform)("GET", "/api/me", { token });
  expect(response.status).toBe(200);
  return (await response.json()) as Me;
}

/** The first account (the operator) and an invitation it mailed to `email` with `role`. */
async function operatorInviting(platform: TestPlatform, email: string, role = "admin") {
  const first = await signUp(platform, "root@example.com");
  expect(first.error).toBeNull();
  let session = first.data.session;
  if (!session) {
    // Confirmation is required: the operator confirms like everyone else.
    await confirmEmail(platform, "root@example.com");
    session = (await supabaseClient(platform).auth.signInWithPassword({ email: "root@example.com", password: PASSWORD })).data.session;
  }
  const operator = { token: session!.access_token };
  const invited = await caller(platform)("POST", "/api/invitations", { token: operator.token, body: { email, role } });
  expect(invited.status).toBe(201);
  return { operator, invitationToken: await invitationTokenFor(platform, email) };
}

async function organisationCount(platform: TestPlatform): Promise<number> {
  return withSystem(platform.database.system, async (trx) => (await trx.selectFrom("tenants").select("id").execute()).length);
}

describe("the installation's first account", () => {
  it("may sign up even when sign-up is closed, and is the operator", async () => {
    await withInstallation({ mode: "closed", domains: [] }, async (platform) => {
      // The web app learns from /api/config that the first account may still sign up.
      const config = async () => ((await (await caller(platform)("GET", "/api/config")).json()) as { signup: string; firstAccount: boolean });
      expect(await config()).toMatchObject({ signup: "closed", firstAccount: true });
      const first = await signUp(platform, "root@example.com");
      expect(first.error).toBeNull();
      const profile = await me(platform, first.data.session!.access_token);
      expect(profile.user.operator).toBe(true);
      expect(profile.tenants).toHaveLength(1);
      expect(profile.canCreateOrganisation).toBe(true);
      expect(await config()).toMatchObject({ signup: "closed", firstAccount: false });

      const second = await signUp(platform, "second@example.com");
      expect(second.error).toMatchObject({ status: 403, code: "signup_disabled" });
      expect(second.error?.message).toMatch(/closed/);
    });
  });

  it("is exactly one of several simultaneous first sign-ups", async () => {
    await withInstallation({ mode: "open", domains: [] }, async (platform) => {
      const results = await Promise.all(["one@example.com", "two@example.com", "three@example.com"].map((email) => signUp(platform, email)));
      for (const result of results) expect(result.error).toBeNull();
      const flags = await Promise.all(results.map(async (result) => (await me(platform, result.data.session!.access_token)).user.operator));
      expect(flags.filter(Boolean)).toHaveLength(1);
    });
  });
});

describe("sign-up by invitation only (invite)", () => {
  it("refuses a plain sign-up, and admits the invited address into the inviting organisation with its role, confirmed", async () => {
    // As beyond loopback: invitations and required confirmation together.
    await withInstallation(
      { mode: "invite", domains: [] },
      async (platform) => {
        const { operator, invitationToken } = await operatorInviting(platform, "ivy@example.com", "admin");
        const operatorTenant = (await me(platform, operator.token)).tenants[0]!;

        const plain = await signUp(platform, "stranger@example.com");
        expect(plain.error).toMatchObject({ status: 403, code: "signup_disabled" });
        expect(plain.error?.message).toMatch(/invitation/);
        const before = await organisationCount(platform);

        const invited = await signUp(platform, "Ivy@Example.com", invitationToken);
        expect(invited.error).toBeNull();
        // The link was mailed to the address, so it counts as confirmed: signed in at once.
        expect(invited.data.session).not.toBeNull();
        const profile = await me(platform, invited.data.session!.access_token);
        expect(profile.user).toMatchObject({ email: "ivy@example.com", emailConfirmed: true, operator: false });
        expect(profile.tenants).toEqual([{ id: operatorTenant.id, name: operatorTenant.name, role: "admin", suspended: false, suspendedReason: null }]);
        expect(profile.canCreateOrganisation).toBe(false);
        expect(await organisationCount(platform)).toBe(before);

        // The invitation is used up.
        const preview = await caller(platform)("POST", "/api/invitations/preview", { body: { token: invitationToken } });
        expect(preview.status).toBe(404);
      },
      { confirmation: "required" },
    );
  });

  it("refuses an invitation's token for another address, and leaves the invitation usable", async () => {
    await withInstallation({ mode: "invite", domains: [] }, async (platform) => {
      const { invitationToken } = await operatorInviting(platform, "jo@example.com", "member");
      const thief = await signUp(platform, "thief@example.com", invitationToken);
      expect(thief.error).toMatchObject({ status: 403, code: "forbidden" });
      expect(thief.error?.message).toMatch(/jo@example\.com/);
      expect((await signUp(platform, "jo@example.com", invitationToken)).error).toBeNull();
    });
  });

  it("lets only the operator create further organisations", async () => {
    await withInstallation({ mode: "invite", domains: [] }, async (platform) => {
      const { operator, invitationToken } = await operatorInviting(platform, "kim@example.com", "member");
      const kim = await signUp(platform, "kim@example.com", invitationToken);
      const refused = await caller(platform)("POST", "/api/tenants", { token: kim.data.session!.access_token, body: { name: "Kim's own" } });
      expect(await errorOf(refused)).toMatchObject({ status: 403, code: "forbidden" });
      const created = await caller(platform)("POST", "/api/tenants", { token: operator.token, body: { name: "Second customer" } });
      expect(created.status).toBe(201);
    });
  });

  it("is what /auth/v1/settings and /api/config report", async () => {
    await withInstallation({ mode: "invite", domains: [] }, async (platform) => {
      const settings = (await (await caller(platform)("GET", "/auth/v1/settings")).json()) as { disable_signup: boolean; signup_mode: string };
      expect(settings).toMatchObject({ disable_signup: false, signup_mode: "invite" });
      const config = (await (await caller(platform)("GET", "/api/config")).json()) as { signup: string };
      expect(config.signup).toBe("invite");
    });
  });
});

describe("sign-up limited to domains", () => {
  it("admits listed domains (with an organisation of their own) and refuses others unless invited", async () => {
    await withInstallation({ mode: "domains", domains: ["example.com", "example.org"] }, async (platform) => {
      const { invitationToken } = await operatorInviting(platform, "guest@elsewhere.net", "member");

      const listed = await signUp(platform, "lee@EXAMPLE.org");
      expect(listed.error).toBeNull();
      const profile = await me(platform, listed.data.session!.access_token);
      expect(profile.tenants).toEqual([expect.objectContaining({ role: "owner" })]);
      expect(profile.canCreateOrganisation).toBe(true);

      const outsider = await signUp(platform, "max@elsewhere.net");
      expect(outsider.error).toMatchObject({ status: 403, code: "signup_disabled" });
      expect(outsider.error?.message).toMatch(/example\.com, example\.org/);
      // A look-alike domain is not a listed one.
      expect((await signUp(platform, "ned@notexample.com")).error).toMatchObject({ code: "signup_disabled" });

      expect((await signUp(platform, "guest@elsewhere.net", invitationToken)).error).toBeNull();

      const settings = (await (await caller(platform)("GET", "/auth/v1/settings")).json()) as { signup_mode: string };
      expect(settings.signup_mode).toBe("domains");
    });
  });
});

describe("closed sign-up", () => {
  it("refuses everyone after the operator, even with an invitation", async () => {
    await withInstallation({ mode: "closed", domains: [] }, async (platform) => {
      const { invitationToken } = await operatorInviting(platform, "olga@example.com", "member");
      const invited = await signUp(platform, "olga@example.com", invitationToken);
      expect(invited.error).toMatchObject({ status: 403, code: "signup_disabled" });
      expect((await signUp(platform, "pia@example.com")).error).toMatchObject({ status: 403, code: "signup_disabled" });

      const settings = (await (await caller(platform)("GET", "/auth/v1/settings")).json()) as { disable_signup: boolean; signup_mode: string };
      expect(settings).toMatchObject({ disable_signup: true, signup_mode: "closed" });
      expect(((await (await caller(platform)("GET", "/api/config")).json()) as { signup: string }).signup).toBe("closed");
    });
  });
});

describe("a new organisation's budget", () => {
  it("is the installation's default, for the sign-up's organisation and for one created later", async () => {
    await withInstallation(
      { mode: "open", domains: [] },
      async (platform) => {
        const session = (await signUp(platform, "quinn@example.com")).data.session!;
        const budget = async (tenantId?: string) => {
          const response = await caller(platform)("GET", "/api/budget", { token: session.access_token, headers: tenantId ? { "x-tenant-id": tenantId } : {} });
          expect(response.status).toBe(200);
          return ((await response.json()) as { budget: { monthlyTokens: number | null; remainingTokens: number | null } }).budget;
        };
        expect(await budget()).toMatchObject({ monthlyTokens: 1234, remainingTokens: 1234 });

        const created = await caller(platform)("POST", "/api/tenants", { token: session.access_token, body: { name: "Another" } });
        const { tenant } = (await created.json()) as { tenant: { id: string } };
        expect(await budget(tenant.id)).toMatchObject({ monthlyTokens: 1234 });
      },
      { defaultMonthlyTokens: 1234 },
    );
  });
});
