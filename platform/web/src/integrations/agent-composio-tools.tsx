import type { AgentComposioToolkit, ComposioConnectionView, ComposioToolView, ToolMode } from "@workforce/protocol";
import { useEffect, useState, useSyncExternalStore } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { canManage, currentRole } from "../tenants/tenant-store";
import { ErrorMessage } from "../ui/error-message";

type Problem = { code: string; message: string } | undefined;
type Choice = ToolMode | "off";

/**
 * Which of the organisation's Composio apps one agent may use (issue 14), and how: every tool of
 * the app or the ones ticked, at once (`allow`) or after a member approves each call (`ask`: the
 * run pauses until someone decides on the Approvals screen or in the chat). Owners and admins
 * change it; everyone sees it. Rendered by the agent's tools panel; nothing when Composio is off.
 */
export function AgentComposioTools({ tenantId, agent }: { tenantId: string; agent: string }) {
  const { api, tenants } = useServices();
  const admin = canManage(currentRole(useSyncExternalStore(tenants.subscribe, tenants.getState)));
  const [connections, setConnections] = useState<ComposioConnectionView[] | null>();
  const [choices, setChoices] = useState<AgentComposioToolkit[]>();
  const [error, setError] = useState<Problem>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let current = true;
    (async () => {
      const overview = await api.composio.overview();
      if (!overview.configured) return current && setConnections(null);
      const chosen = await api.composio.agentTools(agent);
      if (!current) return;
      setConnections(overview.connections);
      setChoices(chosen.toolkits);
    })().catch((thrown: unknown) => current && setError(toErrorDetail(thrown)));
    return () => {
      current = false;
    };
  }, [api, tenantId, agent]);

  if (connections === null) return null;
  const list = choices ?? [];
  const toolkits = [...new Set([...(connections ?? []).map((connection) => connection.toolkit), ...list.map((choice) => choice.toolkit)])].sort();

  function update(toolkit: string, change: Partial<AgentComposioToolkit> | "off") {
    setSaved(false);
    setChoices((previous = []) => {
      const others = previous.filter((choice) => choice.toolkit !== toolkit);
      if (change === "off") return others;
      const existing = previous.find((choice) => choice.toolkit === toolkit) ?? { toolkit, mode: "allow" as const, tools: null };
      return [...others, { ...existing, ...change }].sort((a, b) => a.toolkit.localeCompare(b.toolkit));
    });
  }

  async function save() {
    setBusy(true);
    setError(undefined);
    try {
      // A toolkit with no tool ticked is simply not allowed.
      const toolkits = list.filter((choice) => choice.tools === null || choice.tools.length > 0);
      setChoices((await api.composio.setAgentTools(agent, { toolkits })).toolkits);
      setSaved(true);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card section" aria-labelledby="agent-composio-title" data-testid="agent-composio-tools">
      <h3 id="agent-composio-title">Apps (Composio)</h3>
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {connections === undefined && !error ? (
        <p className="muted" role="status">
          Loading apps…
        </p>
      ) : toolkits.length === 0 ? (
        <p className="muted">No apps are connected. Owners and admins connect them on the Integrations page.</p>
      ) : (
        <ul className="row-list" aria-label="Apps this agent may use">
          {toolkits.map((toolkit) => (
            <ToolkitChoice
              key={toolkit}
              toolkit={toolkit}
              connection={connections?.find((connection) => connection.toolkit === toolkit)}
              choice={list.find((each) => each.toolkit === toolkit)}
              admin={admin}
              onChange={(change) => update(toolkit, change)}
            />
          ))}
        </ul>
      )}
      {admin && toolkits.length > 0 ? (
        <div className="button-row">
          <button type="button" className="button primary" disabled={busy} onClick={() => void save()}>
            Save apps
          </button>
          {saved ? (
            <span className="muted small" role="status">
              Saved: the agent&apos;s next run uses these apps.
            </span>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function ToolkitChoice(props: {
  toolkit: string;
  connection: ComposioConnectionView | undefined;
  choice: AgentComposioToolkit | undefined;
  admin: boolean;
  onChange: (change: Partial<AgentComposioToolkit> | "off") => void;
}) {
  const { api } = useServices();
  const { toolkit, choice, admin } = props;
  const [tools, setTools] = useState<ComposioToolView[]>();
  const [error, setError] = useState<Problem>();
  const picking = choice?.tools !== null && choice?.tools !== undefined;
  const value: Choice = choice ? choice.mode : "off";

  useEffect(() => {
    if (!picking || tools) return;
    let current = true;
    api.composio.tools(toolkit).then(
      (list) => current && setTools(list),
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, toolkit, picking, tools]);

  const status = props.connection?.status ?? "not connected";
  return (
    <li className="row" data-testid="agent-composio-toolkit" data-toolkit={toolkit}>
      <div className="row-main">
        <span className="row-title">
          {toolkit} <span className="muted small">({status})</span>
        </span>
        <label className="field inline">
          <span>Use</span>
          <select
            value={value}
            disabled={!admin}
            aria-label={`How the agent may use ${toolkit}`}
            onChange={(event) => props.onChange(event.target.value === "off" ? "off" : { mode: event.target.value as ToolMode })}
          >
            <option value="off">Not allowed</option>
            <option value="allow">Allowed</option>
            <option value="ask">Ask first</option>
          </select>
        </label>
        {choice ? (
          <label className="field inline">
            <input
              type="checkbox"
              checked={!picking}
              disabled={!admin}
              onChange={(event) => props.onChange({ tools: event.target.checked ? null : [] })}
            />
            <span>Every tool of {toolkit}</span>
          </label>
        ) : null}
        <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
        {choice && picking ? (
          <fieldset className="tool-picks" aria-label={`${toolkit} tools`}>
            {(tools ?? []).map((tool) => (
              <label key={tool.slug} className="field inline" title={tool.description}>
                <input
                  type="checkbox"
                  disabled={!admin}
                  checked={choice.tools?.includes(tool.slug) ?? false}
                  onChange={(event) => {
                    const others = (choice.tools ?? []).filter((slug) => slug !== tool.slug);
                    props.onChange({ tools: event.target.checked ? [...others, tool.slug] : others });
                  }}
                />
                <code>{tool.slug}</code>
              </label>
            ))}
          </fieldset>
        ) : null}
      </div>
    </li>
  );
}
