import type { SessionSummary } from "@workforce/protocol";
import { useId, useState, type FormEvent } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { exportSession } from "./export-session";
import { LIMITS, textProblem } from "../errors/limits";
import { relativeTime } from "../ui/relative-time";

type Mode = "view" | "menu" | "rename" | "confirm-delete";

/** One session in the sidebar: open it, or rename (one's own), export, delete it. Another's shows whose it is. */
export function SessionItem(props: {
  agent: string;
  session: SessionSummary;
  /** Whose it is, when it is not the viewer's ("All chats"). */
  ownerLabel: string | undefined;
  canRename: boolean;
  active: boolean;
  disabled: boolean;
  onOpen: () => void;
  onChanged: () => void;
  onDeleted: () => void;
}) {
  const { api } = useServices();
  const { session, agent } = props;
  const [mode, setMode] = useState<Mode>("view");
  const [title, setTitle] = useState(session.title);
  const [error, setError] = useState<{ code?: string; message: string }>();
  const id = useId();

  async function act(action: () => Promise<void>) {
    setError(undefined);
    try {
      await action();
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    }
  }

  function rename(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const problem = textProblem(title, { label: "Title", max: LIMITS.sessionTitle, required: true });
    if (problem) return setError({ message: problem });
    void act(async () => {
      await api.renameSession(agent, session.key, title.trim());
      setMode("view");
      props.onChanged();
    });
  }

  const label = session.title || "Untitled chat";
  return (
    <li className={`session-item${props.active ? " active" : ""}`} data-testid="session-item" data-session-key={session.key}>
      {mode === "rename" ? (
        <form className="session-rename" onSubmit={rename}>
          <label htmlFor={`${id}-title`} className="visually-hidden">
            Title
          </label>
          <input id={`${id}-title`} value={title} onChange={(event) => setTitle(event.target.value)} autoFocus maxLength={LIMITS.sessionTitle} required />
          <div className="button-row">
            <button type="submit" className="button primary small">
              Save
            </button>
            <button type="button" className="button ghost small" onClick={() => setMode("view")}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <div className="session-row">
          <button
            type="button"
            className="session-open"
            onClick={props.onOpen}
            disabled={props.disabled}
            aria-current={props.active ? "true" : undefined}
          >
            <span className="session-title">{label}</span>
            {props.ownerLabel ? (
              <span className="session-owner muted small" data-testid="session-owner">
                {props.ownerLabel}
              </span>
            ) : null}
            <span className="session-time muted small">
              <time dateTime={session.updatedAt}>{relativeTime(session.updatedAt)}</time>
            </span>
            {session.pendingApproval ? (
              <span className="badge badge-warning small" data-testid="session-waiting">
                waiting for approval
              </span>
            ) : null}
          </button>
          <button
            type="button"
            className="button ghost small icon"
            aria-label={`Actions for ${label}`}
            aria-expanded={mode !== "view"}
            onClick={() => setMode(mode === "view" ? "menu" : "view")}
          >
            ⋯
          </button>
        </div>
      )}
      {mode === "menu" ? (
        <div className="session-menu" role="group" aria-label={`Actions for ${label}`}>
          {props.canRename ? (
            <button type="button" className="button ghost small" onClick={() => setMode("rename")}>
              Rename
            </button>
          ) : null}
          <button type="button" className="button ghost small" onClick={() => void act(() => exportSession(api, agent, session, "markdown"))}>
            Export Markdown
          </button>
          <button type="button" className="button ghost small" onClick={() => void act(() => exportSession(api, agent, session, "json"))}>
            Export JSON
          </button>
          <button type="button" className="button ghost small danger-text" onClick={() => setMode("confirm-delete")}>
            Delete
          </button>
        </div>
      ) : null}
      {mode === "confirm-delete" ? (
        <div className="session-confirm" role="group" aria-label={`Delete ${label}?`}>
          <span className="small">Delete this chat?</span>
          <button
            type="button"
            className="button danger small"
            onClick={() =>
              void act(async () => {
                await api.deleteSession(agent, session.key);
                props.onDeleted();
              })
            }
          >
            Confirm delete
          </button>
          <button type="button" className="button ghost small" onClick={() => setMode("view")}>
            Cancel
          </button>
        </div>
      ) : null}
      <ErrorMessage error={error} />
    </li>
  );
}
