import { useSyncExternalStore } from "react";

/**
 * A tiny history router: the app has a handful of screens, and the platform already answers
 * every unknown path with index.html.
 */
export type Route =
  | { screen: "agents" }
  | { screen: "chat"; agent: string; session: string | undefined }
  | { screen: "not-found" };

const listeners = new Set<() => void>();
let current = location();

function location(): string {
  return window.location.pathname + window.location.search;
}

function changed(): void {
  const next = location();
  if (next === current) return;
  current = next;
  for (const listener of listeners) listener();
}

window.addEventListener("popstate", changed);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location()) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  changed();
}

export function parseRoute(pathAndQuery: string): Route {
  const url = new URL(pathAndQuery, "http://app.invalid");
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "agents")) return { screen: "agents" };
  if (parts.length === 2 && parts[0] === "agents" && parts[1]) {
    return { screen: "chat", agent: parts[1], session: url.searchParams.get("session") ?? undefined };
  }
  return { screen: "not-found" };
}

export function chatPath(agent: string, session?: string): string {
  const base = `/agents/${encodeURIComponent(agent)}`;
  return session ? `${base}?session=${encodeURIComponent(session)}` : base;
}

export function useRoute(): Route {
  const path = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
  return parseRoute(path);
}
