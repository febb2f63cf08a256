import type { Route } from "../router";
import { Link } from "./link";

const ITEMS = [
  { to: "/", label: "Agents", screens: ["agents", "chat", "work"] },
  { to: "/team", label: "Team", screens: ["team"] },
  { to: "/integrations", label: "Integrations", screens: ["integrations"] },
  { to: "/webhooks", label: "Webhooks", screens: ["webhooks"] },
  { to: "/keys", label: "API keys", screens: ["keys"] },
  { to: "/usage", label: "Usage", screens: ["usage"] },
] as const satisfies readonly { to: string; label: string; screens: readonly Route["screen"][] }[];

/** Only for the installation's operator. */
const OPERATOR_ITEM = { to: "/operator", label: "Operator", screens: ["operator"] } as const;

/** The app's sections. Plain links in tab order; the current one is marked with `aria-current="page"`. */
export function MainNav({ route, operator }: { route: Route; operator: boolean }) {
  const items = operator ? [...ITEMS, OPERATOR_ITEM] : ITEMS;
  return (
    <nav className="main-nav" aria-label="Main">
      <ul>
        {items.map((item) => {
          const current = (item.screens as readonly string[]).includes(route.screen);
          return (
            <li key={item.to}>
              <Link to={item.to} className="nav-link" aria-current={current ? "page" : undefined}>
                {item.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
