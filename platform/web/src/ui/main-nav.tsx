import type { Route } from "../router";
import { useApprovalsLive } from "../approvals/approvals-live";
import { useServices } from "../services";
import { Link } from "./link";

const ITEMS = [
  { to: "/", label: "Agents", screens: ["agents", "chat", "work"] },
  { to: "/search", label: "Search", screens: ["search"] },
  { to: "/approvals", label: "Approvals", screens: ["approvals"] },
  { to: "/team", label: "Team", screens: ["team"] },
  { to: "/integrations", label: "Integrations", screens: ["integrations"] },
  { to: "/webhooks", label: "Webhooks", screens: ["webhooks"] },
  { to: "/keys", label: "API keys", screens: ["keys"] },
  { to: "/usage", label: "Usage", screens: ["usage"] },
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
