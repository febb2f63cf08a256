import type { ModelInfo } from "@workforce/protocol";
import type { Role, Tenant } from "../api/platform-schemas";

const STORAGE_KEY = "workforce.tenantId";

type ErrorDetail = { code: string; message: string; retryable?: boolean | undefined };

/** Who is signed in, their organisations, and whether the agent gateway answered. */
export interface Workspace {
  user: WorkspaceUser;
  tenants: Tenant[];
  /** Whether the sign-up policy lets this user create another organisation. */
  canCreateOrganisation: boolean;
  /** The model replies come from; undefined while the gateway is unreachable. */
  model: ModelInfo | undefined;
  /** Why the gateway could not be asked (agents and chat are unavailable; team, keys and usage still work). */
  gatewayError: ErrorDetail | undefined;
}

export interface WorkspaceUser {
  id: string;
  email?: string | null | undefined;
  /** False until the address is confirmed with the mailed link or code. */
  emailConfirmed: boolean;
  /** The installation's operator (its first account): sees and suspends every organisation. */
  operator: boolean;
}

export interface TenantState {
  me: MeState;
  tenantId: string | undefined;
  /** Why a suspended organisation is suspended: the message of its 403 `tenant_suspended`, by tenant id. */
  suspensions: Readonly<Record<string, string>>;
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
  getState: () => TenantState;
  subscribe: (listener: () => void) => () => void;
  setMe: (me: MeState) => void;
  /** Replaces the organisations of a loaded workspace (after re-reading `/api/tenants`); ignored before it is loaded. */
  setTenants: (tenants: Tenant[]) => void;
  /** An organisation answered 403 `tenant_suspended`: mark it suspended (it may have happened while the app was open) and keep the reason. */
  markSuspended: (tenantId: string, message: string) => void;
  /** A call found the gateway unreachable after the workspace loaded: show it (the banner then checks back). */
  markGatewayDown: (error: ErrorDetail) => void;
  select: (tenantId: string) => void;
  tenantId: () => string | undefined;
  reset: () => void;
}

export function createTenantStore(storage: Storage = window.localStorage): TenantStore {
  let state: TenantState = { me: { status: "idle" }, tenantId: read(storage), suspensions: {} };
  const listeners = new Set<() => void>();
  const set = (next: TenantState) => {
    state = next;
    for (const listener of listeners) listener();
  };
  const setMe = (me: MeState) => {
    let tenantId = state.tenantId;
    let suspensions = state.suspensions;
    if (me.status === "ready") {
      const known = me.me.tenants.some((tenant) => tenant.id === tenantId);
      if (!known) tenantId = me.me.tenants[0]?.id;
      write(storage, tenantId);
      // A lifted suspension (or an organisation no longer listed) forgets its reason.
      const stillSuspended = new Set(me.me.tenants.filter((tenant) => tenant.suspended).map((tenant) => tenant.id));
      suspensions = Object.fromEntries(Object.entries(suspensions).filter(([id]) => stillSuspended.has(id)));
    }
    set({ me, tenantId, suspensions });
  };

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    setMe,
    setTenants(tenants) {
      if (state.me.status !== "ready") return;
      // `/api/tenants` does not say which are suspended; keep what `/api/me` and the 403s told.
      const suspended = new Set(state.me.me.tenants.filter((tenant) => tenant.suspended).map((tenant) => tenant.id));
      setMe({ status: "ready", me: { ...state.me.me, tenants: tenants.map((tenant) => ({ ...tenant, suspended: tenant.suspended ?? suspended.has(tenant.id) })) } });
    },
    markSuspended(tenantId, message) {
      if (state.suspensions[tenantId] === message) return;
      const me: MeState =
        state.me.status === "ready"
          ? { status: "ready", me: { ...state.me.me, tenants: state.me.me.tenants.map((tenant) => (tenant.id === tenantId ? { ...tenant, suspended: true } : tenant)) } }
          : state.me;
      set({ ...state, me, suspensions: { ...state.suspensions, [tenantId]: message } });
    },
    markGatewayDown(error) {
      if (state.me.status !== "ready" || state.me.me.gatewayError) return;
      set({ ...state, me: { status: "ready", me: { ...state.me.me, gatewayError: error } } });
    },
    select(tenantId) {
      write(storage, tenantId);
      set({ ...state, tenantId });
    },
    tenantId: () => state.tenantId,
    reset() {
      set({ me: { status: "idle" }, tenantId: state.tenantId, suspensions: {} });
    },
  };
}

/** The signed-in user's role in the selected organisation. */
export function currentRole(state: TenantState): Role | undefined {
  return currentTenant(state)?.role;
}

/** The selected organisation of a loaded workspace. */
export function currentTenant(state: TenantState): Tenant | undefined {
  if (state.me.status !== "ready") return undefined;
  return state.me.me.tenants.find((tenant) => tenant.id === state.tenantId);
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
