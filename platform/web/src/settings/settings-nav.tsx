import type { Role } from "../api/platform-schemas";
import type { Route } from "../router";
import { canManage } from "../tenants/tenant-store";
import { Link } from "../ui/link";

/** The organisation's settings, each a screen of its own; owners and admins see the ones only they can use. */
export const SETTINGS_ITEMS = [
  { to: "/team", label: "Team", screen: "team", managersOnly: false },
  { to: "/budget", label: "Budget & plan", screen: "budget", managersOnly: false },
  { to: "/integrations", label: "Integrations", screen: "integrations", managersOnly: false },
  { to: "/webhooks", label: "Webhooks", screen: "webhooks", managersOnly: false },
  { to: "/keys", label: "API keys", screen: "keys", managersOnly: false },
  { to: "/audit", label: "Audit log", screen: "audit", managersOnly: true },
  { to: "/data", label: "Export & delete", screen: "data", managersOnly: true },
] as const satisfies readonly { to: string; label: string; screen: Route["screen"]; managersOnly: boolean }[];

export type SettingsScreen = (typeof SETTINGS_ITEMS)[number]["screen"];
const SETTINGS_SCREENS: readonly string[] = SETTINGS_ITEMS.map((item) => item.screen);

export function isSettingsScreen(screen: Route["screen"]): screen is SettingsScreen {
  return SETTINGS_SCREENS.includes(screen);
}

/**
 * The second row of navigation on every settings screen: the main bar holds one "Settings" entry
 * instead of six, and this row says which of them is open.
 */
export function SettingsNav({ route, role }: { route: Route; role: Role | undefined }) {
  const items = SETTINGS_ITEMS.filter((item) => !item.managersOnly || canManage(role));
  return (
    <nav className="settings-nav" aria-label="Settings">
      <ul>
        {items.map((item) => (
          <li key={item.to}>
            <Link to={item.to} className="nav-link" aria-current={route.screen === item.screen ? "page" : undefined}>
              {item.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
