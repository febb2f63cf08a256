import type { AgentToolGrantInput, AgentToolsView, ToolMode } from "@workforce/protocol";
import { useEffect, useId, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { useAccess } from "../tenants/use-access";
import { ErrorMessage } from "../ui/error-message";
import { AgentComposioTools } from "./agent-composio-tools";
import { AgentWorkspaceTools } from "./agent-workspace-tools";

type Choice = ToolMode | "off";

const WEB_TEXT: Record<string, { label: string; hint: string }> = {
  web_fetch: { label: "Fetch web pages", hint: "reads a page at a URL as text" },
  web_search: { label: "Search the web", hint: "searches through the operator's provider" },
};

/** Off / allow / ask for one tool; `ask`: each call waits for a member's approval (the Approvals screen). */
function ModeSelect({ label, value, disabled, onChange }: { label: string; value: Choice; disabled: boolean; onChange: (value: Choice) => void }) {
  return (
    <select aria-label={label} value={value} disabled={disabled} onChange={(event) => onChange(event.target.value as Choice)}>
      <option value="off">Off</option>
      <option value="allow">Allow</option>
      <option value="ask">Ask first</option>
    </select>
  );
}

const key = (source: string, tool: string) => `${source}\u0000${tool}`;

/** The grants a view holds, keyed by source (`web` or a server id) and tool. */
function choicesOf(view: AgentToolsView): Map<string, Choice> {
  const choices = new Map<string, Choice>();
  for (const tool of view.web) choices.set(key("web", tool.name), tool.mode ?? "off");
  for (const server of view.mcp) for (const tool of server.tools) choices.set(key(server.serverId, tool.name), tool.mode ?? "off");
  return choices;
}

/** The tools one agent may use (workspace, web, MCP, Composio) and how: allow, ask first, or off. Owners and admins change them; members read them. */
export function AgentToolsPanel({ tenantId, agent }: { tenantId: string; agent: string }) {
  const { api } = useServices();
  const { manages } = useAccess();
  const headingId = useId();
  const [view, setView] = useState<AgentToolsView>();
  const [choices, setChoices] = useState<Map<string, Choice>>(new Map());
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();

  useEffect(() => {
    let current = true;
    api.agentTools(agent).then(
      (loaded) => {
        if (!current) return;
        setView(loaded);
        setChoices(choicesOf(loaded));
      },
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, agent, tenantId]);

  function choose(source: string, tool: string, value: Choice) {
    setSaved(false);
    setChoices((current) => new Map(current).set(key(source, tool), value));
  }

  async function save() {
    if (!view) return;
    setBusy(true);
    setError(undefined);
    const grants: AgentToolGrantInput[] = [];
    for (const tool of view.web) {
      const mode = choices.get(key("web", tool.name));
      if (mode && mode !== "off") grants.push({ source: "web", tool: tool.name, mode });
    }
    for (const server of view.mcp) {
      for (const tool of server.tools) {
        const mode = choices.get(key(server.serverId, tool.name));
        if (mode && mode !== "off") grants.push({ source: "mcp", serverId: server.serverId, tool: tool.name, mode });
      }
    }
    try {
      const updated = await api.setAgentTools(agent, grants);
      setView(updated);
      setChoices(choicesOf(updated));
      setSaved(true);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="agent-tools" aria-labelledby={headingId} data-testid="agent-tools" data-agent={agent}>
      <h3 id={headingId}>Tools</h3>
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {!view ? (
        error ? null : (
          <p className="muted small" role="status">
            Loading tools…
          </p>
        )
      ) : (
        <>
          <AgentWorkspaceTools tenantId={tenantId} agent={agent} />
          <fieldset>
            <legend>Web</legend>
            {view.web.map((tool) => (
              <div className="tool-choice" key={tool.name} data-testid="agent-tool" data-tool={tool.name}>
                <span>
                  {WEB_TEXT[tool.name]?.label ?? tool.name} <code className="muted small">{tool.name}</code>
                  {!tool.available ? <span className="muted small"> (not configured on this server)</span> : null}
                </span>
                <ModeSelect label={`${tool.name} (web)`} value={choices.get(key("web", tool.name)) ?? "off"} disabled={!manages || !tool.available} onChange={(value) => choose("web", tool.name, value)} />
              </div>
            ))}
          </fieldset>
          {view.mcp.map((server) => (
            <fieldset key={server.serverId}>
              <legend>
                {server.name} <code className="muted small">{server.namespace}</code>
                {server.status !== "ok" ? <span className="muted small"> ({server.status === "needs_auth" ? "needs authorisation" : server.status === "error" ? "unreachable" : "not checked"})</span> : null}
              </legend>
              {server.tools.length === 0 ? <p className="muted small">No tools listed yet: refresh the server on the Integrations screen.</p> : null}
              {server.tools.map((tool) => (
                <div className="tool-choice" key={tool.name} data-testid="agent-tool" data-tool={tool.name} data-server={server.namespace}>
                  <span>
                    <code>{tool.name}</code>
                    {tool.description ? <span className="muted small"> {tool.description}</span> : null}
                    {!tool.listed ? <span className="muted small"> (no longer listed by the server)</span> : null}
                  </span>
                  <ModeSelect label={`${tool.name} (${server.namespace})`} value={choices.get(key(server.serverId, tool.name)) ?? "off"} disabled={!manages} onChange={(value) => choose(server.serverId, tool.name, value)} />
                </div>
              ))}
            </fieldset>
          ))}
          {view.mcp.length === 0 ? <p className="muted small">No MCP servers yet: add one on the Integrations screen.</p> : null}
          {manages ? (
            <div className="button-row">
              <button type="button" className="button primary small" disabled={busy} onClick={() => void save()}>
                Save tools
              </button>
              {saved ? (
                <span className="small" role="status">
                  Saved.
                </span>
              ) : null}
            </div>
          ) : null}
        </>
      )}
      <AgentComposioTools tenantId={tenantId} agent={agent} />
    </section>
  );
}
