import type { McpServerView } from "@workforce/protocol";
import { useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { useAccess } from "../tenants/use-access";
import { ErrorMessage } from "../ui/error-message";
import { AddMcpServerForm } from "./add-mcp-server-form";
import { McpServerRow } from "./mcp-server-row";

/** What `/integrations?mcp_error=…` (the OAuth callback's outcome) means, for people. */
const OAUTH_ERRORS: Record<string, string> = {
  invalid_state: "That authorisation link was already used or is unknown. Start again with Connect.",
  expired_state: "The authorisation took longer than 10 minutes. Start again with Connect.",
  forbidden: "Only owners and admins can connect MCP servers.",
  access_denied: "The authorisation was declined at the server.",
  authorization_failed: "The server's authorization server did not complete the authorisation.",
  token_exchange_failed: "The server's authorization server refused to issue a token. See the server's error below and try again.",
  server_deleted: "The server was deleted while it was being connected.",
};

/** Reads (once) and removes the OAuth callback's outcome from the address bar. */
function takeOAuthOutcome(): { connected?: string; error?: string } {
  const params = new URLSearchParams(window.location.search);
  const connected = params.get("mcp") === "connected" ? (params.get("server") ?? "") : undefined;
  const error = params.get("mcp_error") ?? undefined;
  if (connected === undefined && error === undefined) return {};
  window.history.replaceState(window.history.state, "", window.location.pathname);
  return { ...(connected === undefined ? {} : { connected }), ...(error === undefined ? {} : { error }) };
}

/** MCP servers of the organisation: their status and tools; owners and admins add, refresh, connect and delete them. */
export function McpServersSection({ tenantId }: { tenantId: string }) {
  const { api } = useServices();
  const { manages } = useAccess();
  const [servers, setServers] = useState<McpServerView[]>();
  const [error, setError] = useState<{ code: string; message: string }>();
  const [notice, setNotice] = useState<string>();
  const [adding, setAdding] = useState(false);

  const replace = (server: McpServerView) => setServers((list) => (list ?? []).map((other) => (other.id === server.id ? server : other)));

  useEffect(() => {
    let current = true;
    const outcome = takeOAuthOutcome();
    if (outcome.error) setError({ code: outcome.error, message: OAUTH_ERRORS[outcome.error] ?? "The server could not be connected." });
    void (async () => {
      try {
        let list = await api.listMcpServers();
        // Just connected: list its tools with the new token straight away.
        if (outcome.connected && list.some((server) => server.id === outcome.connected)) {
          const refreshed = await api.refreshMcpServer(outcome.connected);
          list = list.map((server) => (server.id === refreshed.id ? refreshed : server));
          if (current) setNotice(`${refreshed.name} is connected.`);
        }
        if (current) setServers(list);
      } catch (thrown) {
        if (current) setError(toErrorDetail(thrown));
      }
    })();
    return () => {
      current = false;
    };
  }, [api, tenantId]);

  async function added(server: McpServerView) {
    setAdding(false);
    setServers((list) => [...(list ?? []), server]);
    if (server.auth === "oauth") {
      setNotice(`${server.name} is added. Connect it to sign in at the server.`);
      return;
    }
    try {
      replace(await api.refreshMcpServer(server.id));
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    }
  }

  return (
    <section className="card section" aria-labelledby="mcp-servers-section-title" data-testid="mcp-servers">
      <h2 id="mcp-servers-section-title">MCP servers</h2>
      <p className="muted">Remote tool servers (Model Context Protocol). Choose which agent may use which tool on the Agents screen, under Tools.</p>
      {notice ? (
        <p className="notice" role="status" data-testid="mcp-notice">
          {notice}
        </p>
      ) : null}
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {servers === undefined && !error ? (
        <p className="muted" role="status">
          Loading MCP servers…
        </p>
      ) : servers?.length ? (
        <ul className="row-list" aria-label="MCP servers">
          {servers.map((server) => (
            <McpServerRow key={server.id} server={server} manages={manages} onChanged={replace} onDeleted={() => setServers((list) => list?.filter((other) => other.id !== server.id))} />
          ))}
        </ul>
      ) : servers ? (
        <p className="muted">No MCP servers yet.</p>
      ) : null}
      {manages ? (
        adding ? (
          <AddMcpServerForm onAdded={(server) => void added(server)} onCancel={() => setAdding(false)} />
        ) : (
          <button type="button" className="button" onClick={() => setAdding(true)}>
            Add MCP server
          </button>
        )
      ) : null}
    </section>
  );
}
