import type { SessionSummary } from "@workforce/protocol";
import { useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { SessionItem } from "./session-item";

/** The agent's sessions, newest first; refetched whenever the conversation says they may have changed. */
export function SessionsSidebar(props: {
  agent: string;
  activeKey: string | undefined;
  version: number;
  busy: boolean;
  onOpen: (key: string) => void;
  onNewChat: () => void;
  onDeleted: (key: string) => void;
}) {
  const { api } = useServices();
  const [sessions, setSessions] = useState<SessionSummary[]>();
  const [error, setError] = useState<{ code: string; message: string }>();
  const [localVersion, setLocalVersion] = useState(0);
  const { agent, version } = props;

  useEffect(() => {
    let current = true;
    api.listSessions(agent).then(
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
  }, [api, agent, version, localVersion]);

  return (
    <nav className="sessions" aria-label="Chats">
      <button type="button" className="button primary new-chat" onClick={props.onNewChat} disabled={props.busy}>
        New chat
      </button>
      <ErrorMessage error={error} />
      {sessions === undefined && !error ? <p className="muted small">Loading chats…</p> : null}
      {sessions?.length === 0 ? <p className="muted small">No chats yet.</p> : null}
      <ul data-testid="sessions" className="session-list">
        {sessions?.map((session) => (
          <SessionItem
            key={session.key}
            agent={agent}
            session={session}
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
