import { ApiError, toErrorDetail } from "../api/api-error";
import type { ApiClient } from "../api/client";
import type { ModelStore } from "../model-store";
import type { TenantStore, WorkspaceUser } from "./tenant-store";

const GATEWAY_CODES = new Set(["gateway_unavailable", "gateway_error"]);

/**
 * Loads `/api/me` into the tenant store. `/api/me` also asks the gateway which model answers; when
 * the gateway is down the organisations still come from `/api/tenants`, so the app opens with a
 * clear banner instead of a dead end. `quiet` keeps the current screen while it reloads (after
 * joining or creating an organisation).
 */
export async function loadWorkspace(
  deps: { api: ApiClient; tenants: TenantStore; model: ModelStore },
  /** Who is signed in, as far as the session knows: used when the gateway is down and `/api/me` cannot answer. */
  user: WorkspaceUser,
  options: { quiet?: boolean; isCurrent?: () => boolean } = {},
): Promise<void> {
  const { api, tenants, model } = deps;
  const isCurrent = options.isCurrent ?? (() => true);
  if (!options.quiet) tenants.setMe({ status: "loading" });
  try {
    const me = await api.me();
    if (!isCurrent()) return;
    tenants.setMe({
      status: "ready",
      me: { user: me.user, tenants: me.tenants, canCreateOrganisation: me.canCreateOrganisation, model: me.model, gatewayError: undefined },
    });
    model.set(me.model);
  } catch (thrown) {
    if (!(thrown instanceof ApiError) || !GATEWAY_CODES.has(thrown.code)) {
      if (isCurrent()) tenants.setMe({ status: "error", error: toErrorDetail(thrown) });
      return;
    }
    try {
      const list = await api.listTenants();
      if (!isCurrent()) return;
      // The server decides whether creating an organisation is allowed; offering it costs nothing.
      tenants.setMe({ status: "ready", me: { user, tenants: list, canCreateOrganisation: true, model: undefined, gatewayError: toErrorDetail(thrown) } });
    } catch (second) {
      if (isCurrent()) tenants.setMe({ status: "error", error: toErrorDetail(second) });
    }
  }
}
