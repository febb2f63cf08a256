import { chatPath, workPath } from "../router";
import { Link } from "../ui/link";

/** Chat and Work: the two faces of one agent, as tabs under its name. */
export function AgentTabs({ agent, current }: { agent: string; current: "chat" | "work" }) {
  return (
    <nav className="agent-tabs" aria-label="Agent">
      <Link to={chatPath(agent)} aria-current={current === "chat" ? "page" : undefined}>
        Chat
      </Link>
      <Link to={workPath(agent)} aria-current={current === "work" ? "page" : undefined} data-testid="work-tab">
        Work
      </Link>
    </nav>
  );
}
