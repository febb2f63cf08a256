import { useEffect } from "react";
import type { Route } from "../router";

export const APP_NAME = "Workforce";

/** The tab's title for a screen: "Team · Workforce", "Ada — Chat · Workforce". */
export function pageTitle(screen: string | undefined): string {
  return screen ? `${screen} · ${APP_NAME}` : APP_NAME;
}

const SCREEN_TITLES: Record<Exclude<Route["screen"], "chat" | "work">, string> = {
  agents: "Agents",
  team: "Team",
  keys: "API keys",
  usage: "Usage",
  integrations: "Integrations",
  approvals: "Approvals",
  webhooks: "Webhooks",
  budget: "Budget & plan",
  audit: "Audit log",
  data: "Export & delete",
  erased: "Organisation deleted",
  search: "Search",
  account: "Account",
  operator: "Operator",
  invite: "Invitation",
  confirm: "Confirm",
  "new-password": "New password",
  "not-found": "Not found",
};

/** A route's title before its screen knows more (the chat names its agent once it has loaded it). */
export function routeTitle(route: Route): string {
  if (route.screen === "chat") return `${route.agent} — Chat`;
  if (route.screen === "work") return `${route.agent} — Work`;
  return SCREEN_TITLES[route.screen];
}

/** Sets the tab's title while the caller is shown; a later caller (a screen that loaded its name) wins. */
export function usePageTitle(screen: string | undefined): void {
  useEffect(() => {
    if (screen !== undefined) document.title = pageTitle(screen);
  }, [screen]);
}
