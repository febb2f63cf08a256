import { describe, expect, it } from "vitest";
import { ApiError } from "./api-error";
import { createApiClient } from "./client";

const SELECTED = "00000000-0000-4000-8000-00000000000a";
const tenant = { id: SELECTED, name: "Acme", role: "owner" };

/** A client over a fake fetch that records each request's path and X-Tenant-ID. */
function clientAnswering(answer: (path: string, method: string) => Response) {
  const requests: { path: string; tenantId: string | null }[] = [];
  const forbidden: (string | undefined)[] = [];
  const api = createApiClient({
    baseUrl: "/api",
    accessToken: async () => "token",
    tenantId: () => SELECTED,
    onTenantForbidden: async (tenantId) => void forbidden.push(tenantId),
    fetch: async (input, init) => {
      const path = (typeof input === "string" ? input : input instanceof URL ? input.href : input.url).replace(/^\/api/, "");
      requests.push({ path, tenantId: new Headers(init?.headers).get("x-tenant-id") });
      return answer(path, init?.method ?? "GET");
    },
  });
  return { api, requests, forbidden };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const forbiddenAnswer = () => json({ error: { code: "forbidden", message: "You are not a member of the organisation in X-Tenant-ID" } }, 403);

describe("API client", () => {
  it("sends X-Tenant-ID on organisation calls but never on account calls", async () => {
    const { api, requests } = clientAnswering((path, method) => {
      if (method === "POST" && path === "/tenants") return json({ tenant }, 201);
      if (path === "/me") return json({
          user: { id: "u1", email: "a@b.co", emailConfirmed: true, operator: false },
          tenants: [tenant],
          canCreateOrganisation: true,
          model: { provider: "offline", id: "offline", offline: true },
        });
      if (path === "/tenants") return json({ tenants: [tenant] });
      if (path === "/invitations/accept") return json({ tenant });
      return json({ agents: [] });
    });
    await api.me();
    await api.listTenants();
    await api.createTenant("Beta");
    await api.acceptInvitation("token");
    await api.listAgents();
    expect(requests).toEqual([
      { path: "/me", tenantId: null },
      { path: "/tenants", tenantId: null },
      { path: "/tenants", tenantId: null },
      { path: "/invitations/accept", tenantId: null },
      { path: "/agents", tenantId: SELECTED },
    ]);
  });

  it("lets the app re-check memberships before an organisation call's 403 reaches the screen", async () => {
    const { api, forbidden } = clientAnswering(forbiddenAnswer);
    await expect(api.listMembers()).rejects.toMatchObject({ code: "forbidden", status: 403 });
    expect(forbidden).toEqual([SELECTED]);
  });

  it("reports a suspended organisation with the operator's reason, and never for account calls", async () => {
    const suspended: [string, string][] = [];
    const message = "This organisation is suspended by the installation's operator: unpaid invoice.";
    const api = createApiClient({
      baseUrl: "/api",
      accessToken: async () => "token",
      tenantId: () => SELECTED,
      onTenantSuspended: (tenantId, text) => void suspended.push([tenantId, text]),
      fetch: async () => json({ error: { code: "tenant_suspended", message } }, 403),
    });
    await expect(api.listAgents()).rejects.toMatchObject({ code: "tenant_suspended" });
    await expect(api.previewInvitation("token")).rejects.toMatchObject({ code: "tenant_suspended" });
    expect(suspended).toEqual([[SELECTED, message]]);
  });

  it("reports an ended session (invalid_token) so the app signs out, but not an expired token, which refreshes", async () => {
    let ended = 0;
    let code = "token_expired";
    const api = createApiClient({
      baseUrl: "/api",
      accessToken: async () => "token",
      tenantId: () => SELECTED,
      onSessionEnded: () => void ended++,
      fetch: async () => json({ error: { code, message: "no" } }, 401),
    });
    await expect(api.me()).rejects.toMatchObject({ code: "token_expired" });
    expect(ended).toBe(0);
    code = "invalid_token";
    await expect(api.listAgents()).rejects.toMatchObject({ code: "invalid_token" });
    expect(ended).toBe(1);
  });

  it("does not re-check for account calls or other errors", async () => {
    const { api, forbidden } = clientAnswering((path) => (path === "/me" ? forbiddenAnswer() : json({ error: { code: "agent_not_found", message: "no agent" } }, 404)));
    await expect(api.me()).rejects.toBeInstanceOf(ApiError);
    await expect(api.getAgent("ada")).rejects.toMatchObject({ code: "agent_not_found" });
    expect(forbidden).toEqual([]);
  });
});
