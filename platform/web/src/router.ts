import { useSyncExternalStore } from "react";

/**
 * A tiny history router: the app has a handful of screens, and the platform already answers
 * every unknown path with index.html.
 */
export type Route =
  | { screen: "agents" }
  | { screen: "chat"; agent: string; session: string | undefined }
  /** An agent's own work: its schedules, heartbeat, recent autonomous runs, pending approvals. */
  | { screen: "work"; agent: string }
  /** Search over the organisation's chats (`/search?q=`). */
  | { screen: "search"; query: string }
  | { screen: "team" }
  | { screen: "keys" }
  | { screen: "usage" }
  | { screen: "integrations" }
  /** The organisation's tool calls waiting for a decision, and the decided ones. */
  | { screen: "approvals" }
  /** The organisation's outbound webhooks and their delivery log. */
  | { screen: "webhooks" }
  /** The organisation's monthly token budget against its plan (issue 16). */
  | { screen: "budget" }
  /** The organisation's audit log, filtered and a page at a time (owners/admins). */
  | { screen: "audit" }
  /** Export of the organisation's data, and its erasure (owners/admins; erasure owners only). */
  | { screen: "data" }
  /** The receipt of an organisation just deleted; it no longer exists, so the screen is about none. */
  | { screen: "erased" }
  /** The signed-in user's own account: email, password, sessions. */
  | { screen: "account" }
  /** Every organisation of the installation (its operator only). */
  | { screen: "operator" }
  /** The link in an invitation mail: `{PUBLIC_URL}/invite/{token}`. */
  | { screen: "invite"; token: string }
  /** The link in every account mail: `{PUBLIC_URL}/auth/confirm?token_hash=…&type=…`. */
  | { screen: "confirm"; tokenHash: string | undefined; type: string | undefined }
  /** "Choose a new password", after a recovery link or code signed the user in. */
  | { screen: "new-password" }
  | { screen: "not-found" };

const listeners = new Set<() => void>();
// Without a DOM (components rendered to static markup) there is no address to follow yet.
const browser = typeof window !== "undefined";
let current = browser ? location() : "/";

function location(): string {
  return window.location.pathname + window.location.search;
}

function changed(): void {
  const next = location();
  if (next === current) return;
  current = next;
  for (const listener of listeners) listener();
}

if (browser) window.addEventListener("popstate", changed);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location()) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  changed();
}

const SIMPLE_SCREENS = {
  team: "team",
  // The settings area opens on its first page.
  settings: "team",
  keys: "keys",
  usage: "usage",
  integrations: "integrations",
  approvals: "approvals",
  webhooks: "webhooks",
  budget: "budget",
  audit: "audit",
  data: "data",
  erased: "erased",
  account: "account",
  operator: "operator",
} as const;

export function parseRoute(pathAndQuery: string): Route {
  const url = new URL(pathAndQuery, "http://app.invalid");
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  if (parts.length === 0 || (parts.length === 1 && first === "agents")) return { screen: "agents" };
  if (parts.length === 2 && first === "agents" && second) {
    return { screen: "chat", agent: second, session: url.searchParams.get("session") ?? undefined };
  }
  if (parts.length === 1 && first === "search") return { screen: "search", query: url.searchParams.get("q") ?? "" };
  if (parts.length === 3 && first === "agents" && second && parts[2] === "work") return { screen: "work", agent: second };
  if (parts.length === 1 && first && Object.hasOwn(SIMPLE_SCREENS, first)) {
    return { screen: SIMPLE_SCREENS[first as keyof typeof SIMPLE_SCREENS] };
  }
  if (parts.length === 2 && first === "invite" && second) return { screen: "invite", token: second };
  if (parts.length === 2 && first === "auth" && second === "confirm") {
    return { screen: "confirm", tokenHash: url.searchParams.get("token_hash") ?? undefined, type: url.searchParams.get("type") ?? undefined };
  }
  if (parts.length === 2 && first === "auth" && second === "new-password") return { screen: "new-password" };
  return { screen: "not-found" };
}

export function chatPath(agent: string, session?: string): string {
  const base = `/agents/${encodeURIComponent(agent)}`;
  return session ? `${base}?session=${encodeURIComponent(session)}` : base;
}

export function workPath(agent: string): string {
  return `/agents/${encodeURIComponent(agent)}/work`;
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
