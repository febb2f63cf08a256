import { createClient, type Session, type SupabaseClient } from "@supabase/supabase-js";
import { useSyncExternalStore } from "react";

export type AuthState =
  | { status: "loading" }
  | { status: "signed-out" }
  | { status: "signed-in"; session: Session };

/**
 * Holds the Supabase session outside React so that components read it with
 * `useSyncExternalStore` and nothing re-subscribes on re-render.
 */
export interface AuthStore {
  client: SupabaseClient;
  getState: () => AuthState;
  subscribe: (listener: () => void) => () => void;
  /** A fresh access token (supabase-js refreshes it when it is about to expire), or undefined when signed out. */
  accessToken(): Promise<string | undefined>;
}

export function createAuthStore(supabaseUrl: string, anonKey: string): AuthStore {
  const client = createClient(supabaseUrl, anonKey, {
    auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: false },
  });
  let state: AuthState = { status: "loading" };
  const listeners = new Set<() => void>();
  const set = (next: AuthState) => {
    state = next;
    for (const listener of listeners) listener();
  };

  client.auth.onAuthStateChange((_event, session) => {
    set(session ? { status: "signed-in", session } : { status: "signed-out" });
  });
  client.auth
    .getSession()
    .then(({ data }) => {
      if (state.status === "loading") set(data.session ? { status: "signed-in", session: data.session } : { status: "signed-out" });
    })
    .catch(() => set({ status: "signed-out" }));

  return {
    client,
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async accessToken() {
      const { data } = await client.auth.getSession();
      return data.session?.access_token;
    },
  };
}

export function useAuthState(store: AuthStore): AuthState {
  return useSyncExternalStore(store.subscribe, store.getState);
}

/**
 * A readable message for an error from supabase-js. Its message is normally a string, but a
 * server that answers in another error shape can leave an object there, so we dig one level.
 */
export function describeAuthError(error: unknown): { code: string | undefined; message: string } {
  if (error && typeof error === "object") {
    const record = error as { code?: unknown; message?: unknown; error?: unknown };
    const code = typeof record.code === "string" ? record.code : undefined;
    if (typeof record.message === "string" && record.message !== "") {
      return { code, message: unwrapJsonMessage(record.message) };
    }
    if (record.message && typeof record.message === "object") return describeAuthError(record.message);
    if (record.error && typeof record.error === "object") return describeAuthError(record.error);
  }
  return { code: undefined, message: typeof error === "string" ? error : "Something went wrong. Please try again." };
}

/** `{"error":{"message":"…"}}` serialised into a message string becomes just the inner message. */
function unwrapJsonMessage(message: string): string {
  if (!message.startsWith("{")) return message;
  try {
    const parsed: unknown = JSON.parse(message);
    const inner = describeAuthError(parsed);
    return inner.message;
  } catch {
    return message;
  }
}
