import { SEARCH_QUERY_MAX, type SearchResult, type SessionOwnerFilter } from "@workforce/protocol";
import { useEffect, useId, useState, type FormEvent } from "react";
import { toErrorDetail } from "../api/api-error";
import { chatPath, navigate } from "../router";
import { isMine, ownerLabel } from "../sessions/sessions-sidebar";
import { useServices } from "../services";
import { useAccess } from "../tenants/use-access";
import { ErrorMessage } from "../ui/error-message";
import { Link } from "../ui/link";
import { relativeTime } from "../ui/relative-time";
import { markedSnippet } from "./marked-snippet";

type State = { status: "idle" } | { status: "loading" } | { status: "done"; results: SearchResult[] } | { status: "failed"; error: { code: string; message: string } };

/**
 * Search over the organisation's chats (`/search?q=`): titles and messages, best match first, each
 * with the words around the match; a result opens its chat. Owners and admins may search everyone's.
 */
export function SearchScreen({ query }: { tenantId: string; query: string }) {
  const { api, chat } = useServices();
  const { manages, userId } = useAccess();
  const [text, setText] = useState(query);
  const [owner, setOwner] = useState<SessionOwnerFilter>("mine");
  const [state, setState] = useState<State>({ status: "idle" });
  const id = useId();

  useEffect(() => setText(query), [query]);

  useEffect(() => {
    if (!query.trim()) {
      setState({ status: "idle" });
      return;
    }
    let current = true;
    setState({ status: "loading" });
    api.searchChats(query, manages ? owner : "mine").then(
      (results) => {
        if (current) setState({ status: "done", results });
      },
      (thrown: unknown) => {
        if (current) setState({ status: "failed", error: toErrorDetail(thrown) });
      },
    );
    return () => {
      current = false;
    };
  }, [api, query, owner, manages]);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmed = text.trim();
    navigate(trimmed ? `/search?q=${encodeURIComponent(trimmed)}` : "/search", { replace: true });
  }

  return (
    <main className="page" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>Search chats</h1>
          <p className="muted">Find a chat by words of its title or its messages.</p>
        </div>
      </div>
      <form className="search-form" role="search" onSubmit={submit}>
        <label htmlFor={`${id}-q`} className="visually-hidden">
          Search chats
        </label>
        <input id={`${id}-q`} type="search" value={text} onChange={(event) => setText(event.target.value)} maxLength={SEARCH_QUERY_MAX} placeholder="Search chats" autoFocus />
        <button type="submit" className="button primary">
          Search
        </button>
        {manages ? (
          <button type="button" className="button ghost small" aria-pressed={owner === "all"} onClick={() => setOwner(owner === "all" ? "mine" : "all")}>
            Everyone&apos;s chats
          </button>
        ) : null}
      </form>
      {state.status === "failed" ? <ErrorMessage error={state.error} /> : null}
      {state.status === "loading" ? (
        <p className="muted" role="status">
          Searching…
        </p>
      ) : null}
      {state.status === "idle" ? <p className="muted">Type a few words and press Enter.</p> : null}
      {state.status === "done" && state.results.length === 0 ? (
        <p className="muted" role="status" data-testid="search-empty">
          No chats match “{query}”.
        </p>
      ) : null}
      {state.status === "done" && state.results.length > 0 ? (
        <ul className="search-results" data-testid="search-results" aria-label="Matching chats">
          {state.results.map((result) => (
            <li key={`${result.agent.slug}/${result.sessionKey}`} className="search-result" data-testid="search-result">
              <Link
                to={chatPath(result.agent.slug, result.sessionKey)}
                className="search-result-title"
                // The chat screen keeps the URL on the session its store shows: open this one there first.
                onClick={() => void chat.openSession(result.agent.slug, result.sessionKey)}
              >
                {result.title}
              </Link>
              <span className="muted small">
                {result.agent.name} · <time dateTime={result.updatedAt}>{relativeTime(result.updatedAt)}</time>
                {isMine(result.owner, userId) ? null : ` · ${ownerLabel(result.owner)}`}
              </span>
              {result.snippet ? <p className="search-snippet small">{markedSnippet(result.snippet)}</p> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </main>
  );
}
