import type { OwnedSessionSummary, SessionOwner, SessionOwnerFilter } from "@workforce/protocol";
import { useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { useGatewayDown } from "../errors/gateway-status";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { SessionItem } from "./session-item";

/**
 * The agent's sessions, newest first: one's own chats, and for owners and admins everyone's
 * behind "All chats" (each with whose it is). Refetched whenever the conversation says they may have changed.
 */
export function SessionsSidebar(props: {
  agent: string;
  activeKey: string | undefined;
  version: number;
  busy: boolean;
  /** Owners and admins may list everyone's chats. */
  canSeeAll: boolean;
  userId: string | undefined;
  onOpen: (key: string) => void;
  onNewChat: () => void;
  onDeleted: (key: string) => void;
}) {
  const { api } = useServices();
  const gatewayDown = useGatewayDown();
  const [sessions, setSessions] = useState<OwnedSessionSummary[]>();
  const [error, setError] = useState<{ code: string; message: string }>();
  const [localVersion, setLocalVersion] = useState(0);
  const [filter, setFilter] = useState<SessionOwnerFilter>("mine");
  const { agent, version } = props;
  const shown = props.canSeeAll ? filter : "mine";

  useEffect(() => {
    let current = true;
    setSessions(undefined);
    api.listSessions(agent, shown).then(
      (list) => {
        if (!current) return;
        setSessions(list);
        setError(undefined);
      },
      (thrown: unknown) => {
        if (current) setError(toErrorDetail(thrown));
      },
    );
    return () => {
      current = false;
    };
  }, [api, agent, version, localVersion, shown]);

  return (
    <nav className="sessions" aria-label="Chats">
      <button type="button" className="button primary new-chat" onClick={props.onNewChat} disabled={props.busy}>
        New chat
      </button>
      {props.canSeeAll ? (
        <button type="button" className="button ghost small" aria-pressed={shown === "all"} onClick={() => setFilter(shown === "all" ? "mine" : "all")}>
          All chats
        </button>
      ) : null}
      <ErrorMessage error={error} />
      {sessions === undefined && !error ? (
        <p className="muted small" role="status">
          {gatewayDown ? "Chats show again as soon as agents are reachable." : "Loading chats…"}
        </p>
      ) : null}
      {sessions?.length === 0 ? <p className="muted small">No chats yet.</p> : null}
      <ul data-testid="sessions" className="session-list">
        {sessions?.map((session) => (
          <SessionItem
            key={session.key}
            agent={agent}
            session={session}
            ownerLabel={isMine(session.owner, props.userId) ? undefined : ownerLabel(session.owner)}
            canRename={isMine(session.owner, props.userId) || session.owner.type === "none"}
            active={session.key === props.activeKey}
            disabled={props.busy}
            onOpen={() => props.onOpen(session.key)}
            onChanged={() => setLocalVersion((value) => value + 1)}
            onDeleted={() => {
              setSessions((list) => list?.filter((other) => other.key !== session.key));
              props.onDeleted(session.key);
            }}
          />
        ))}
      </ul>
    </nav>
  );
}

export function isMine(owner: SessionOwner, userId: string | undefined): boolean {
  return owner.type === "user" && owner.id === userId;
}

/** Whose a session is, in words: an email, an API key's name, or nobody. */
export function ownerLabel(owner: SessionOwner): string {
  if (owner.type === "user") return owner.email ?? "a former member";
  if (owner.type === "api-key") return `API key ${owner.name ?? owner.id ?? ""}`.trim();
  return "no owner";
}
