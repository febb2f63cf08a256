import type { Route } from "../router";
import { useApprovalsLive } from "../approvals/approvals-live";
import { useServices } from "../services";
import { SETTINGS_ITEMS } from "../settings/settings-nav";
import { Link } from "./link";

// The organisation's settings (team, budget, integrations, webhooks, keys, audit, data) are one
// entry here and a second row of navigation on their screens (settings/settings-nav.tsx).
const ITEMS = [
  { to: "/", label: "Agents", screens: ["agents", "chat", "work"] },
  { to: "/search", label: "Search", screens: ["search"] },
  { to: "/approvals", label: "Approvals", screens: ["approvals"] },
  { to: "/usage", label: "Usage", screens: ["usage"] },
  { to: "/team", label: "Settings", screens: SETTINGS_ITEMS.map((item) => item.screen) },
] as const satisfies readonly { to: string; label: string; screens: readonly Route["screen"][] }[];

/** Only for the installation's operator. */
const OPERATOR_ITEM = { to: "/operator", label: "Operator", screens: ["operator"] } as const;

/**
 * The app's sections. Plain links in tab order; the current one is marked with `aria-current="page"`.
 * Approvals carries the live count of tool calls waiting for the user's decision.
 */
export function MainNav({ route, operator, tenantId }: { route: Route; operator: boolean; tenantId: string }) {
  const items = operator ? [...ITEMS, OPERATOR_ITEM] : ITEMS;
  const { approvals } = useServices();
  const { pending } = useApprovalsLive(approvals, tenantId);
  return (
    <nav className="main-nav" aria-label="Main">
      <ul>
        {items.map((item) => {
          const current = (item.screens as readonly string[]).includes(route.screen);
          return (
            <li key={item.to}>
              <Link to={item.to} className="nav-link" aria-current={current ? "page" : undefined}>
                {item.label}
                {item.to === "/approvals" && pending ? (
                  <>
                    <span className="nav-count" data-testid="approvals-count" aria-hidden="true">
                      {pending}
                    </span>
                    <span className="visually-hidden">, {pending} waiting</span>
                  </>
                ) : null}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
