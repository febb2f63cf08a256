import type { Agent } from "@workforce/protocol";
import { useCallback, useEffect, useState } from "react";
import { ApiError, toErrorDetail } from "../api/api-error";
import { chatPath, navigate, workPath } from "../router";
import { useServices } from "../services";
import { useAccess } from "../tenants/use-access";
import { AgentToolsPanel } from "../integrations/agent-tools-panel";
import { ErrorMessage } from "../ui/error-message";
import { AgentForm, agentInputFromValues, agentUpdateFromValues, valuesFromAgent, type AgentFieldErrors, type AgentFormValues } from "./agent-form";

type ErrorDetail = { code: string; message: string };

/** Agents of the selected organisation: list, and (owners and admins) create, edit, delete. */
export function AgentsScreen({ tenantId }: { tenantId: string }) {
  const { api } = useServices();
  const { manages } = useAccess();
  const [agents, setAgents] = useState<Agent[]>();
  const [error, setError] = useState<ErrorDetail>();
  const [creating, setCreating] = useState(false);
  const [busy, setBusy] = useState(false);
  const [formKey, setFormKey] = useState(0);

  // A list that could not be read is an error state with Retry, not an empty list (with a create form).
  const [loadError, setLoadError] = useState<ErrorDetail>();
  const load = useCallback(async () => {
    setLoadError(undefined);
    try {
      setAgents(await api.listAgents());
    } catch (thrown) {
      setLoadError(toErrorDetail(thrown));
    }
  }, [api]);

  useEffect(() => {
    setAgents(undefined);
    setError(undefined);
    void load();
  }, [load, tenantId]);

  async function create(values: AgentFormValues): Promise<AgentFieldErrors | undefined> {
    setBusy(true);
    setError(undefined);
    const input = agentInputFromValues(values);
    try {
      // The server's slug is the one that counts (it may differ from the preview, e.g. "ada-2").
      const agent = await api.createAgent(input);
      setAgents((current) => [...(current ?? []).filter((other) => other.slug !== agent.slug), agent]);
      setCreating(false);
      setFormKey((key) => key + 1);
      return undefined;
    } catch (thrown) {
      if (thrown instanceof ApiError && thrown.code === "agent_exists") {
        return {
          slug: input.slug
            ? `An agent with the slug “${input.slug}” already exists in this organisation. Choose another slug.`
            : "An agent with the slug this name gives already exists in this organisation. Type a different slug.",
        };
      }
      setError(toErrorDetail(thrown));
      return undefined;
    } finally {
      setBusy(false);
    }
  }

  const showForm = manages && (creating || agents?.length === 0);

  return (
    <main className="page" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>Agents</h1>
          <p className="muted">The members of your AI workforce. Pick one to chat.</p>
        </div>
        {manages && !showForm && agents !== undefined ? (
          <button type="button" className="button primary" onClick={() => setCreating(true)}>
            New agent
          </button>
        ) : null}
      </div>

      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />

      {showForm ? (
        <section className="card" aria-labelledby="create-agent-title">
          <h2 id="create-agent-title">Create an agent</h2>
          <AgentForm
            key={formKey}
            mode="create"
            initial={valuesFromAgent(undefined)}
            submitLabel="Create agent"
            busy={busy}
            onSubmit={create}
            {...(agents && agents.length > 0 ? { onCancel: () => setCreating(false) } : {})}
          />
        </section>
      ) : null}

      {agents === undefined ? (
        loadError ? (
          <ErrorMessage error={loadError} onRetry={() => void load()} />
        ) : (
          <p className="muted" role="status">
            Loading agents…
          </p>
        )
      ) : agents.length === 0 && !manages ? (
        <p className="notice" role="note">
          No agents yet. Owners and admins create them; ask one of them.
        </p>
      ) : (
        <ul className="agent-grid" aria-label="Agents">
          {agents.map((agent) => (
            <AgentCard
              key={agent.slug}
              tenantId={tenantId}
              agent={agent}
              manages={manages}
              onChanged={(updated) => setAgents((current) => current?.map((other) => (other.slug === agent.slug ? updated : other)))}
              onDeleted={() => setAgents((current) => current?.filter((other) => other.slug !== agent.slug))}
            />
          ))}
        </ul>
      )}
    </main>
  );
}

/** One agent: chat with it; owners and admins also edit or delete it (members get a read-only card). */
function AgentCard({ tenantId, agent, manages, onChanged, onDeleted }: { tenantId: string; agent: Agent; manages: boolean; onChanged: (agent: Agent) => void; onDeleted: () => void }) {
  const [showTools, setShowTools] = useState(false);
  const { api } = useServices();
  const [mode, setMode] = useState<"view" | "edit" | "confirm-delete">("view");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorDetail>();

  async function save(values: AgentFormValues): Promise<undefined> {
    setBusy(true);
    setError(undefined);
    try {
      onChanged(await api.updateAgent(agent.slug, agentUpdateFromValues(values)));
      setMode("view");
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
    return undefined;
  }

  async function remove() {
    setBusy(true);
    setError(undefined);
    try {
      await api.deleteAgent(agent.slug);
      onDeleted();
    } catch (thrown) {
      setError(toErrorDetail(thrown));
      setBusy(false);
    }
  }

  return (
    <li className="card agent-card" data-testid="agent-card" data-agent={agent.slug}>
      {mode === "edit" ? (
        <>
          <h2 className="card-title">Edit {agent.name}</h2>
          <AgentForm mode="edit" initial={valuesFromAgent(agent)} submitLabel="Save" busy={busy} onSubmit={save} onCancel={() => setMode("view")} />
        </>
      ) : (
        <>
          <a
            className="agent-link"
            href={chatPath(agent.slug)}
            onClick={(event) => {
              event.preventDefault();
              navigate(chatPath(agent.slug));
            }}
          >
            <span className="agent-emoji" aria-hidden="true">
              {agent.emoji}
            </span>
            <span className="agent-text">
              <span className="agent-name">{agent.name}</span>
              <span className="agent-role">{agent.role}</span>
            </span>
          </a>
          <p className="agent-meta muted">
            Slug: <code>{agent.slug}</code>
            {agent.model ? <> · Model: {agent.model}</> : null}
          </p>
          {mode === "confirm-delete" ? (
            <div className="confirm" role="group" aria-label={`Delete ${agent.name}?`}>
              <p>
                Delete <strong>{agent.name}</strong> and all of its chats? This cannot be undone.
              </p>
              <div className="button-row">
                <button type="button" className="button danger" disabled={busy} onClick={() => void remove()}>
                  Confirm delete
                </button>
                <button type="button" className="button ghost" onClick={() => setMode("view")}>
                  Cancel
                </button>
              </div>
            </div>
          ) : (
            <div className="button-row">
              <button type="button" className="button primary small" onClick={() => navigate(chatPath(agent.slug))}>
                Chat
              </button>
              <button type="button" className="button small" aria-label={`Work of ${agent.name}`} onClick={() => navigate(workPath(agent.slug))}>
                Work
              </button>
              <button type="button" className="button small" aria-expanded={showTools} aria-label={`Tools of ${agent.name}`} onClick={() => setShowTools((shown) => !shown)}>
                Tools
              </button>
              {manages ? (
                <>
                  <button type="button" className="button small" onClick={() => setMode("edit")}>
                    Edit
                  </button>
                  <button type="button" className="button ghost small" onClick={() => setMode("confirm-delete")}>
                    Delete
                  </button>
                </>
              ) : null}
            </div>
          )}
        </>
      )}
      {showTools && mode === "view" ? <AgentToolsPanel tenantId={tenantId} agent={agent.slug} /> : null}
      <ErrorMessage error={error} />
    </li>
  );
}
