import type { McpAuthKind, McpServerView, McpTransport } from "@workforce/protocol";
import { useId, useState, type FormEvent } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";

interface HeaderField {
  name: string;
  value: string;
}

/** "My Tools!" → "my_tools": a namespace suggestion from the name (the server decides). */
function namespaceFrom(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 24);
}

/**
 * Registers an MCP server: name, namespace, URL, transport, and how it authenticates. Header
 * values are write-only: typed here, sent once, never shown again (only their names and hints).
 */
export function AddMcpServerForm({ onAdded, onCancel }: { onAdded: (server: McpServerView) => void; onCancel: () => void }) {
  const { api } = useServices();
  const id = useId();
  const [name, setName] = useState("");
  const [namespace, setNamespace] = useState("");
  const [url, setUrl] = useState("");
  const [transport, setTransport] = useState<McpTransport>("streamable-http");
  const [auth, setAuth] = useState<McpAuthKind>("none");
  const [headers, setHeaders] = useState<HeaderField[]>([{ name: "Authorization", value: "" }]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const given = headers.filter((header) => header.name.trim() !== "");
      const server = await api.createMcpServer({
        name: name.trim(),
        namespace: namespace.trim() || namespaceFrom(name),
        url: url.trim(),
        transport,
        auth,
        ...(auth === "headers" ? { headers: Object.fromEntries(given.map((header) => [header.name.trim(), header.value])) } : {}),
      });
      setName("");
      setNamespace("");
      setUrl("");
      setHeaders([{ name: "Authorization", value: "" }]);
      onAdded(server);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }

  const setHeader = (index: number, change: Partial<HeaderField>) => setHeaders((current) => current.map((header, at) => (at === index ? { ...header, ...change } : header)));

  return (
    <form className="form" onSubmit={(event) => void submit(event)} noValidate aria-label="Add an MCP server">
      <div className="field">
        <label htmlFor={`${id}-name`}>Server name</label>
        <input id={`${id}-name`} value={name} maxLength={100} placeholder="e.g. Company tools" onChange={(event) => setName(event.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-namespace`}>Namespace</label>
        <input
          id={`${id}-namespace`}
          value={namespace}
          maxLength={24}
          placeholder={namespaceFrom(name) || "e.g. company_tools"}
          aria-describedby={`${id}-namespace-hint`}
          onChange={(event) => setNamespace(event.target.value)}
        />
        <p className="hint" id={`${id}-namespace-hint`}>
          The prefix of its tools&apos; names (a-z, 0-9, single _), so two servers never clash.
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${id}-url`}>Server URL</label>
        <input id={`${id}-url`} type="url" value={url} placeholder="https://tools.example.com/mcp" onChange={(event) => setUrl(event.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-transport`}>Transport</label>
        <select id={`${id}-transport`} value={transport} onChange={(event) => setTransport(event.target.value as McpTransport)}>
          <option value="streamable-http">Streamable HTTP</option>
          <option value="sse">SSE (older servers)</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-auth`}>Authentication</label>
        <select id={`${id}-auth`} value={auth} onChange={(event) => setAuth(event.target.value as McpAuthKind)}>
          <option value="none">None</option>
          <option value="headers">Headers (an API key or token)</option>
          <option value="oauth">OAuth (sign in at the server)</option>
        </select>
      </div>
      {auth === "headers" ? (
        <fieldset className="header-fields">
          <legend>Headers</legend>
          <p className="hint">Values are stored encrypted and never shown again.</p>
          {headers.map((header, index) => (
            <div className="field-row" key={index}>
              <label>
                Header name {index + 1}
                <input value={header.name} onChange={(event) => setHeader(index, { name: event.target.value })} />
              </label>
              <label>
                Header value {index + 1}
                <input type="password" autoComplete="off" value={header.value} onChange={(event) => setHeader(index, { value: event.target.value })} />
              </label>
            </div>
          ))}
          <button type="button" className="button ghost small" onClick={() => setHeaders((current) => [...current, { name: "", value: "" }])}>
            Add header
          </button>
        </fieldset>
      ) : null}
      <ErrorMessage error={error} />
      <div className="button-row">
        <button type="submit" className="button primary" disabled={busy}>
          Add server
        </button>
        <button type="button" className="button ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
