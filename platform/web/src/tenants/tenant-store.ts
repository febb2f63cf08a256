import type { ModelInfo } from "@workforce/protocol";
import type { Role, Tenant } from "../api/platform-schemas";

const STORAGE_KEY = "workforce.tenantId";

type ErrorDetail = { code: string; message: string };

/** Who is signed in, their organisations, and whether the agent gateway answered. */
export interface Workspace {
  user: { id: string; email?: string | null | undefined };
  tenants: Tenant[];
  /** The model replies come from; undefined while the gateway is unreachable. */
  model: ModelInfo | undefined;
  /** Why the gateway could not be asked (agents and chat are unavailable; team, keys and usage still work). */
  gatewayError: ErrorDetail | undefined;
}

export type MeState =
  | { status: "idle" }
  | { status: "loading" }
  | { status: "ready"; me: Workspace }
  | { status: "error"; error: ErrorDetail };

/**
 * The signed-in user's workspace (`/api/me`) and the selected organisation. The selection is kept
 * in localStorage so a reload stays in the same organisation; it is only a preference: whenever the
 * organisations are (re)read, an id that is not among them is dropped for the first one, or for
 * none (the welcome screen), so an organisation the user left can never lock them out.
 */
export interface TenantStore {
  getState: () => { me: MeState; tenantId: string | undefined };
  subscribe: (listener: () => void) => () => void;
  setMe: (me: MeState) => void;
  /** Replaces the organisations of a loaded workspace (after re-reading `/api/tenants`); ignored before it is loaded. */
  setTenants: (tenants: Tenant[]) => void;
  select: (tenantId: string) => void;
  tenantId: () => string | undefined;
  reset: () => void;
}

export function createTenantStore(storage: Storage = window.localStorage): TenantStore {
  let state: { me: MeState; tenantId: string | undefined } = { me: { status: "idle" }, tenantId: read(storage) };
  const listeners = new Set<() => void>();
  const set = (next: typeof state) => {
    state = next;
    for (const listener of listeners) listener();
  };
  const setMe = (me: MeState) => {
    let tenantId = state.tenantId;
    if (me.status === "ready") {
      const known = me.me.tenants.some((tenant) => tenant.id === tenantId);
      if (!known) tenantId = me.me.tenants[0]?.id;
      write(storage, tenantId);
    }
    set({ me, tenantId });
  };

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    setMe,
    setTenants(tenants) {
      if (state.me.status === "ready") setMe({ status: "ready", me: { ...state.me.me, tenants } });
    },
    select(tenantId) {
      write(storage, tenantId);
      set({ ...state, tenantId });
    },
    tenantId: () => state.tenantId,
    reset() {
      set({ me: { status: "idle" }, tenantId: state.tenantId });
    },
  };
}

/** The signed-in user's role in the selected organisation. */
export function currentRole(state: { me: MeState; tenantId: string | undefined }): Role | undefined {
  if (state.me.status !== "ready") return undefined;
  return state.me.me.tenants.find((tenant) => tenant.id === state.tenantId)?.role;
}

/** Owners and admins manage the team and API keys; the platform enforces the same rule. */
export function canManage(role: Role | undefined): boolean {
  return role === "owner" || role === "admin";
}

function read(storage: Storage): string | undefined {
  try {
    return storage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

function write(storage: Storage, tenantId: string | undefined): void {
  try {
    if (tenantId) storage.setItem(STORAGE_KEY, tenantId);
    else storage.removeItem(STORAGE_KEY);
  } catch {
    // Storage can be unavailable (private mode); the selection then lasts for this page only.
  }
}
