import type { McpServerStatus, McpServerView } from "@workforce/protocol";
import { useState } from "react";
import { useServices } from "../services";
import { ConfirmGroup } from "../ui/confirm-group";
import { ErrorMessage } from "../ui/error-message";
import { useAction } from "../ui/use-action";
import { relativeTime } from "../ui/relative-time";

const STATUS_TEXT: Record<McpServerStatus, string> = {
  unchecked: "Not checked yet",
  ok: "Connected",
  needs_auth: "Needs authorisation",
  error: "Unreachable",
};

/** One MCP server: status, tools, and (owners/admins) Refresh tools, Connect (OAuth), Delete. */
export function McpServerRow({ server, manages, onChanged, onDeleted }: { server: McpServerView; manages: boolean; onChanged: (server: McpServerView) => void; onDeleted: () => void }) {
  const { api } = useServices();
  const [confirming, setConfirming] = useState(false);
  const { busy, error, setError, act } = useAction();

  const refresh = () => act(async () => onChanged(await api.refreshMcpServer(server.id)));
  // The browser leaves for the authorization server and comes back to /integrations.
  const connect = () => act(async () => window.location.assign(await api.startMcpOAuth(server.id)));
  const remove = () => act(async () => {
    await api.deleteMcpServer(server.id);
    onDeleted();
  });

  return (
    <li className="row mcp-server" data-testid="mcp-server-row" data-namespace={server.namespace}>
      <div className="row-main">
        <span className="row-title">
          {server.name} <code className="muted small">{server.namespace}</code>{" "}
          <span className={`badge status-${server.status}`} data-testid="mcp-server-status" data-status={server.status}>
            {STATUS_TEXT[server.status]}
          </span>
        </span>
        <span className="muted small">
          <code>{server.url}</code> · {server.transport === "sse" ? "SSE" : "Streamable HTTP"} ·{" "}
          {server.auth === "oauth" ? (server.oauth?.connected ? "OAuth (connected)" : "OAuth (not connected)") : server.auth === "headers" ? "Headers" : "No authentication"}
          {server.toolsRefreshedAt ? (
            <>
              {" "}
              · Tools listed <time dateTime={server.toolsRefreshedAt}>{relativeTime(server.toolsRefreshedAt)}</time>
            </>
          ) : null}
        </span>
        {server.headers.length ? (
          <span className="scope-list" aria-label="Headers">
            {server.headers.map((header) => (
              <code key={header.name} className="badge">
                {header.name}: {header.hint}
              </code>
            ))}
          </span>
        ) : null}
        {server.lastError ? (
          <p className="small danger-text" data-testid="mcp-server-error">
            {server.lastError}
          </p>
        ) : null}
        {server.tools.length ? (
          <ul className="tool-list" aria-label={`Tools of ${server.name}`} data-testid="mcp-server-tools">
            {server.tools.map((tool) => (
              <li key={tool.name}>
                <code>{tool.name}</code>
                {tool.description ? <span className="muted small"> {tool.description}</span> : null}
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted small">No tools listed yet.</p>
        )}
      </div>
      {manages ? (
        <div className="row-actions">
          <button type="button" className="button small" disabled={busy} onClick={() => void refresh()} aria-label={`Refresh tools of ${server.name}`}>
            Refresh tools
          </button>
          {server.auth === "oauth" ? (
            <button type="button" className="button small primary" disabled={busy} onClick={() => void connect()} aria-label={`Connect ${server.name}`}>
              {server.oauth?.connected ? "Reconnect" : "Connect"}
            </button>
          ) : null}
          <button type="button" className="button ghost small danger-text" onClick={() => setConfirming(true)} aria-label={`Delete ${server.name}`} aria-expanded={confirming}>
            Delete
          </button>
        </div>
      ) : null}
      {confirming ? (
        <ConfirmGroup label={`Delete ${server.name}?`} confirmLabel="Confirm delete" busy={busy} onConfirm={() => void remove()} onCancel={() => setConfirming(false)}>
          <p>
            Delete <strong>{server.name}</strong>? Agents lose its tools, and its stored headers or tokens are erased.
          </p>
        </ConfirmGroup>
      ) : null}
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
    </li>
  );
}
