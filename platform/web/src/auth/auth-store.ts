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
