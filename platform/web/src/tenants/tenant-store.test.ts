import { describe, expect, it } from "vitest";
import { memoryStorage } from "../chat/test-support";
import type { Tenant } from "../api/platform-schemas";
import { createMembershipRecheck } from "./recheck-memberships";
import { createTenantStore, type Workspace } from "./tenant-store";
import type { ApiClient } from "../api/client";

const acme: Tenant = { id: "00000000-0000-4000-8000-00000000000a", name: "Acme", role: "owner" };
const beta: Tenant = { id: "00000000-0000-4000-8000-00000000000b", name: "Beta", role: "member" };
const STALE = "00000000-0000-4000-8000-0000000000ff";

function workspace(tenants: Tenant[]): Workspace {
  return { user: { id: "u1", email: "ada@example.com", emailConfirmed: true, operator: false }, tenants, canCreateOrganisation: true, model: undefined, gatewayError: undefined };
}

describe("tenant store", () => {
  it("drops a remembered organisation the user no longer belongs to for their first one", () => {
    const storage = memoryStorage();
    storage.setItem("workforce.tenantId", STALE);
    const store = createTenantStore(storage);
    store.setMe({ status: "ready", me: workspace([acme, beta]) });
    expect(store.tenantId()).toBe(acme.id);
    expect(storage.getItem("workforce.tenantId")).toBe(acme.id);
  });

  it("selects nothing, and forgets the stale id, when the user has no organisation left", () => {
    const storage = memoryStorage();
    storage.setItem("workforce.tenantId", STALE);
    const store = createTenantStore(storage);
    store.setMe({ status: "ready", me: workspace([]) });
    expect(store.tenantId()).toBeUndefined();
    expect(storage.getItem("workforce.tenantId")).toBeNull();
  });

  it("keeps the selection across a re-read that still lists it, and moves on when it is gone", () => {
    const store = createTenantStore(memoryStorage());
    store.setMe({ status: "ready", me: workspace([acme, beta]) });
    store.select(beta.id);
    store.setTenants([acme, beta]);
    expect(store.tenantId()).toBe(beta.id);
    store.setTenants([acme]);
    expect(store.tenantId()).toBe(acme.id);
    expect(store.getState().me).toMatchObject({ status: "ready", me: { tenants: [acme] } });
    store.setTenants([]);
    expect(store.tenantId()).toBeUndefined();
  });

  it("ignores a re-read before the workspace has loaded", () => {
    const store = createTenantStore(memoryStorage());
    store.setTenants([acme]);
    expect(store.getState().me).toEqual({ status: "idle" });
  });
});

describe("suspended organisations", () => {
  const REASON = "This organisation is suspended by the installation's operator: unpaid invoice.";

  it("marks the organisation suspended when a call answers tenant_suspended, and keeps the reason", () => {
    const store = createTenantStore(memoryStorage());
    store.setMe({ status: "ready", me: workspace([acme, beta]) });
    store.markSuspended(acme.id, REASON);
    expect(store.getState().suspensions).toEqual({ [acme.id]: REASON });
    expect(store.getState().me).toMatchObject({ status: "ready", me: { tenants: [{ id: acme.id, suspended: true }, { id: beta.id }] } });
    // Re-reading /api/tenants (which does not say) keeps the mark.
    store.setTenants([acme, beta]);
    expect(store.getState().me).toMatchObject({ me: { tenants: [{ id: acme.id, suspended: true }, { id: beta.id, suspended: false }] } });
  });

  it("forgets the reason once /api/me says the suspension was lifted", () => {
    const store = createTenantStore(memoryStorage());
    store.setMe({ status: "ready", me: workspace([{ ...acme, suspended: true }]) });
    store.markSuspended(acme.id, REASON);
    store.setMe({ status: "ready", me: workspace([{ ...acme, suspended: true }]) });
    expect(store.getState().suspensions).toEqual({ [acme.id]: REASON });
    store.setMe({ status: "ready", me: workspace([{ ...acme, suspended: false }]) });
    expect(store.getState().suspensions).toEqual({});
  });
});

describe("membership re-check after a 403", () => {
  it("re-reads the organisations once for concurrent 403s and reports the switch", async () => {
    const store = createTenantStore(memoryStorage());
    store.setMe({ status: "ready", me: workspace([acme, beta]) });
    let reads = 0;
    let switched = 0;
    const api = { listTenants: async () => (reads++, [beta]) } as Partial<ApiClient> as ApiClient;
    const recheck = createMembershipRecheck({ api: () => api, tenants: store, onSwitched: () => switched++ });
    await Promise.all([recheck(), recheck(), recheck()]);
    expect(reads).toBe(1);
    expect(store.tenantId()).toBe(beta.id);
    expect(switched).toBe(1);
  });

  it("changes nothing when the membership is still there", async () => {
    const store = createTenantStore(memoryStorage());
    store.setMe({ status: "ready", me: workspace([acme]) });
    let switched = 0;
    const api = { listTenants: async () => [acme] } as Partial<ApiClient> as ApiClient;
    await createMembershipRecheck({ api: () => api, tenants: store, onSwitched: () => switched++ })();
    expect(store.tenantId()).toBe(acme.id);
    expect(switched).toBe(0);
  });
});
