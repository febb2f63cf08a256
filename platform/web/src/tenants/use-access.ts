import { useSyncExternalStore } from "react";
import type { Role } from "../api/platform-schemas";
import { useServices } from "../services";
import { canManage, currentRole, currentTenant } from "./tenant-store";

/**
 * Who the signed-in user is in the selected organisation, for hiding what the platform would
 * refuse anyway (docs/platform-api.md, "Who may do what"): agents are managed by owners and
 * admins, who may also read everyone's chats.
 */
export function useAccess(): { userId: string | undefined; role: Role | undefined; manages: boolean; suspended: boolean } {
  const { tenants } = useServices();
  const state = useSyncExternalStore(tenants.subscribe, tenants.getState);
  const role = currentRole(state);
  return {
    userId: state.me.status === "ready" ? state.me.me.user.id : undefined,
    role,
    manages: canManage(role),
    // The operator suspended the organisation: nothing but export and leaving works.
    suspended: currentTenant(state)?.suspended === true,
  };
}
