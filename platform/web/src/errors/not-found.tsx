import type { ReactNode } from "react";
import { Link } from "../ui/link";

/**
 * A dead end made into a way back: what was not found, said once, and where to go instead
 * (`data-testid="not-found"`). Used for unknown agents, chats and addresses.
 */
export function NotFoundState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <section className="not-found" data-testid="not-found" role="status" aria-live="polite">
      <h2>{title}</h2>
      {children ? <p className="muted">{children}</p> : null}
      <p className="not-found-actions">
        {action}
        <Link to="/" className="button ghost">
          Back to agents
        </Link>
      </p>
    </section>
  );
}

/** Whether an error means the agent itself does not exist (as opposed to failing to load). */
export const isAgentMissing = (error: { code: string } | undefined) => error?.code === "agent_not_found" || error?.code === "invalid_slug";
