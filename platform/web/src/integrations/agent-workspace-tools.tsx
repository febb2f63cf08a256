import type { AgentToolMode, AgentToolModes } from "@workforce/protocol";
import { useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import { useServices } from "../services";
import { useAccess } from "../tenants/use-access";
import { ErrorMessage } from "../ui/error-message";

const MODE_TEXT: Record<AgentToolMode, string> = { allow: "Allow", ask: "Ask first", deny: "Off" };

/**
 * The agent's own workspace tools (read, write, list, search its files; add to its memory), each
 * allowed, asked first (a member approves each call) or off. Owners and admins change them.
 */
export function AgentWorkspaceTools({ tenantId, agent }: { tenantId: string; agent: string }) {
  const { api } = useServices();
  const { manages } = useAccess();
  const [view, setView] = useState<AgentToolModes>();
  const [modes, setModes] = useState<Record<string, AgentToolMode>>({});
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<{ code: string; message: string }>();

  useEffect(() => {
    let current = true;
    api.approvals.toolModes(agent).then(
      (loaded) => {
        if (!current) return;
        setView(loaded);
        setModes(Object.fromEntries(loaded.tools.map((tool) => [tool.name, tool.mode])));
      },
      (thrown: unknown) => current && setError(toErrorDetail(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, agent, tenantId]);

  const workspace = view?.tools.filter((tool) => tool.kind === "workspace") ?? [];

  async function save() {
    setBusy(true);
    setError(undefined);
    try {
      const updated = await api.approvals.setToolModes(agent, Object.fromEntries(workspace.map((tool) => [tool.name, modes[tool.name] ?? tool.mode])));
      setView(updated);
      setModes(Object.fromEntries(updated.tools.map((tool) => [tool.name, tool.mode])));
      setSaved(true);
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }

  return (
    <fieldset data-testid="agent-workspace-tools">
      <legend>Workspace</legend>
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {!view && !error ? (
        <p className="muted small" role="status">
          Loading…
        </p>
      ) : null}
      {workspace.map((tool) => (
        <div className="tool-choice" key={tool.name} data-testid="agent-tool" data-tool={tool.name}>
          <span>
            {tool.description} <code className="muted small">{tool.name}</code>
          </span>
          <select
            aria-label={`${tool.name} (workspace)`}
            value={modes[tool.name] ?? tool.mode}
            disabled={!manages}
            onChange={(event) => {
              setSaved(false);
              setModes((current) => ({ ...current, [tool.name]: event.target.value as AgentToolMode }));
            }}
          >
            {(["allow", "ask", "deny"] as const).map((mode) => (
              <option key={mode} value={mode}>
                {MODE_TEXT[mode]}
              </option>
            ))}
          </select>
        </div>
      ))}
      {manages && view ? (
        <div className="button-row">
          <button type="button" className="button small" disabled={busy} onClick={() => void save()}>
            Save workspace tools
          </button>
          {saved ? (
            <span className="small" role="status">
              Saved.
            </span>
          ) : null}
        </div>
      ) : null}
    </fieldset>
  );
}
