import type { ApiClient } from "../api/client";
import type { TenantStore } from "./tenant-store";

/**
 * Builds the API client's `onTenantForbidden`: a 403 from the selected organisation may mean the
 * membership is gone (the user left in another tab, was removed, or the organisation was deleted).
 * Re-reading `/api/tenants` lets the store drop it for the next organisation or the welcome screen,
 * instead of leaving the user in front of a raw `forbidden`. Concurrent 403s share one re-read; when
 * the membership is still there (a member asking for an admin's page) nothing changes and the
 * screen shows the error as before.
 */
export function createMembershipRecheck(deps: { api: () => ApiClient; tenants: TenantStore; onSwitched: () => void }) {
  let pending: Promise<void> | undefined;
  async function recheck(): Promise<void> {
    const before = deps.tenants.tenantId();
    try {
      deps.tenants.setTenants(await deps.api().listTenants());
    } catch {
      // Could not ask (offline, signed out): the caller shows its own error.
      return;
    }
    if (deps.tenants.tenantId() !== before) deps.onSwitched();
  }
  return (): Promise<void> => {
    pending ??= recheck().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}
