import { HEARTBEAT_MAX_EVERY_MINUTES, HEARTBEAT_MIN_EVERY_MINUTES, isHeartbeatFileEmpty, type HeartbeatSettingsUpdate, type HeartbeatView } from "@workforce/protocol";
import { useEffect, useId, useState, useSyncExternalStore, type FormEvent } from "react";
import { toErrorDetail } from "../api/api-error";
import { chatPath } from "../router";
import { useServices } from "../services";
import { canManage, currentRole } from "../tenants/tenant-store";
import { ErrorMessage, ErrorSummary } from "../ui/error-message";
import { Link } from "../ui/link";
import { relativeTime } from "../ui/relative-time";

type Problem = { code: string; message: string } | undefined;

/** The settings form as typed (numbers and times as text until saved). */
export interface Draft {
  enabled: boolean;
  everyMinutes: string;
  limitHours: boolean;
  start: string;
  end: string;
  timeZone: string;
  content: string;
}

/** The browser's own time zone, offered when the heartbeat has none of its own yet. */
const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function draftOf(view: HeartbeatView): Draft {
  return {
    enabled: view.enabled,
    everyMinutes: String(view.everyMinutes),
    limitHours: view.activeHours !== null,
    start: view.activeHours?.start ?? "09:00",
    end: view.activeHours?.end ?? "17:00",
    // A heartbeat never saved says UTC; the member's own zone is the likelier wish.
    timeZone: view.enabledBy === null && view.activeHours === null && view.timeZone === "UTC" ? browserTimeZone() : view.timeZone,
    content: view.file.content,
  };
}

export function updateOf(draft: Draft, view: HeartbeatView): HeartbeatSettingsUpdate {
  return {
    enabled: draft.enabled,
    everyMinutes: Number(draft.everyMinutes),
    activeHours: draft.limitHours ? { start: draft.start, end: draft.end } : null,
    timeZone: draft.timeZone.trim(),
    ...(draft.content === view.file.content ? {} : { content: draft.content }),
  };
}

const OUTCOME_TEXT: Record<string, string> = {
  ok: "nothing needed attention",
  alert: "alert",
  skipped: "skipped (HEARTBEAT.md asks for nothing)",
  failed: "failed",
  refused: "refused",
};

/** "Every 30 min, 09:00–17:00 Europe/Berlin · next in 12 min", or why it does not run. */
export function scheduleText(view: HeartbeatView): string {
  if (!view.enabled) return "Off";
  const hours = view.activeHours ? `, ${view.activeHours.start}–${view.activeHours.end} ${view.timeZone}` : "";
  const next = view.nextDueAt ? ` · next ${new Date(view.nextDueAt).toLocaleString()}` : "";
  return `Every ${view.everyMinutes} min${hours}${next}`;
}

/**
 * An agent's heartbeat (issue 15): every N minutes, within its active hours, the agent reads its
 * HEARTBEAT.md and says HEARTBEAT_OK when nothing needs attention (only counted), or raises an
 * alert (kept in its heartbeat session, sent to the organisation's webhooks as `heartbeat.alert`).
 * Everyone sees the settings, the counters and the last alert; owners and admins change them,
 * edit HEARTBEAT.md and run it now. A section of the agent's Work tab.
 */
export function HeartbeatPanel({ tenantId, agent }: { tenantId: string; agent: string }) {
  const { api, tenants } = useServices();
  const admin = canManage(currentRole(useSyncExternalStore(tenants.subscribe, tenants.getState)));
  const [view, setView] = useState<HeartbeatView>();
  const [draft, setDraft] = useState<Draft>();
  const [error, setError] = useState<Problem>();
  const [status, setStatus] = useState<string>();
  const [busy, setBusy] = useState(false);
  const id = useId();

  const show = (next: HeartbeatView) => {
    setView(next);
    setDraft(draftOf(next));
  };

  useEffect(() => {
    let current = true;
    api.heartbeat
      .get(agent)
      .then((next) => current && show(next))
      .catch((thrown: unknown) => current && setError(toErrorDetail(thrown)));
    return () => {
      current = false;
    };
  }, [api, tenantId, agent]);

  async function act(task: () => Promise<string | undefined>) {
    setBusy(true);
    setError(undefined);
    setStatus(undefined);
    try {
      setStatus(await task());
    } catch (thrown) {
      setError(toErrorDetail(thrown));
    } finally {
      setBusy(false);
    }
  }

  const save = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!view || !draft) return;
    void act(async () => {
      show(await api.heartbeat.update(agent, updateOf(draft, view)));
      return "Saved.";
    });
  };

  const runNow = () =>
    act(async () => {
      await api.heartbeat.runNow(agent);
      return "Heartbeat started: its outcome shows here once it has ended.";
    });

  const refresh = () =>
    act(async () => {
      show(await api.heartbeat.get(agent));
      return undefined;
    });

  const set = <K extends keyof Draft>(field: K, value: Draft[K]) => setDraft((previous) => previous && { ...previous, [field]: value });

  return (
    <section className="card section" aria-labelledby={`${id}-title`} data-testid="heartbeat-panel">
      <h3 id={`${id}-title`}>Heartbeat</h3>
      <p className="hint">
        Every few minutes the agent reads its HEARTBEAT.md and answers HEARTBEAT_OK when nothing needs attention; those answers are only counted. Anything
        else is an alert: it stays in the agent&apos;s heartbeat chat and is sent to the organisation&apos;s webhooks.
      </p>
      <ErrorMessage error={error} onDismiss={() => setError(undefined)} />
      {!view || !draft ? (
        error ? null : (
          <p className="muted" role="status">
            Loading the heartbeat…
          </p>
        )
      ) : (
        <>
          <p data-testid="heartbeat-schedule">{scheduleText(view)}</p>
          <HeartbeatOutcomes view={view} agent={agent} />
          {admin ? (
            <form className="form" onSubmit={save} aria-label="Heartbeat settings">
              <label className="checkbox">
                <input type="checkbox" checked={draft.enabled} onChange={(event) => set("enabled", event.target.checked)} /> Heartbeat on
              </label>
              <div className="form-row">
                <div className="field">
                  <label htmlFor={`${id}-every`}>Every (minutes)</label>
                  <input
                    id={`${id}-every`}
                    type="number"
                    min={HEARTBEAT_MIN_EVERY_MINUTES}
                    max={HEARTBEAT_MAX_EVERY_MINUTES}
                    required
                    value={draft.everyMinutes}
                    onChange={(event) => set("everyMinutes", event.target.value)}
                  />
                </div>
                <div className="field grow">
                  <label htmlFor={`${id}-zone`}>Time zone</label>
                  <input id={`${id}-zone`} value={draft.timeZone} onChange={(event) => set("timeZone", event.target.value)} required placeholder="Europe/Berlin" />
                </div>
              </div>
              <label className="checkbox">
                <input type="checkbox" checked={draft.limitHours} onChange={(event) => set("limitHours", event.target.checked)} /> Only during active hours
              </label>
              {draft.limitHours ? (
                <div className="form-row">
                  <div className="field">
                    <label htmlFor={`${id}-start`}>From</label>
                    <input id={`${id}-start`} type="time" value={draft.start} onChange={(event) => set("start", event.target.value)} required />
                  </div>
                  <div className="field">
                    <label htmlFor={`${id}-end`}>Until</label>
                    <input id={`${id}-end`} type="time" value={draft.end} onChange={(event) => set("end", event.target.value)} required />
                  </div>
                </div>
              ) : null}
              <div className="field">
                <label htmlFor={`${id}-file`}>HEARTBEAT.md</label>
                <textarea
                  id={`${id}-file`}
                  rows={6}
                  maxLength={20_000}
                  value={draft.content}
                  onChange={(event) => set("content", event.target.value)}
                  placeholder={"# Heartbeat checklist\n\n- Look at notes/inbox.md and tell me about anything urgent."}
                  aria-describedby={`${id}-file-hint`}
                />
                <p className="hint" id={`${id}-file-hint`} data-testid="heartbeat-file-hint">
                  {isHeartbeatFileEmpty(draft.content)
                    ? "HEARTBEAT.md asks for nothing yet (only headings or comments): heartbeats are skipped without calling the model."
                    : "A short checklist: it is part of every heartbeat's prompt. The agent may change it too."}
                </p>
              </div>
              <div className="button-row">
                <button type="submit" className="button primary" disabled={busy}>
                  Save heartbeat
                </button>
                <button type="button" className="button" disabled={busy} onClick={() => void runNow()}>
                  Run now
                </button>
                <button type="button" className="button ghost" disabled={busy} onClick={() => void refresh()}>
                  Refresh
                </button>
                {status ? (
                  <span className="muted small" role="status">
                    {status}
                  </span>
                ) : null}
              </div>
            </form>
          ) : (
            <>
              <h4 className="subheading">HEARTBEAT.md</h4>
              {view.file.exists ? <pre className="plain-text">{view.file.content}</pre> : <p className="muted">This agent has no HEARTBEAT.md.</p>}
            </>
          )}
        </>
      )}
    </section>
  );
}

/** The counters, the last outcome and the last alert. */
export function HeartbeatOutcomes({ view, agent }: { view: HeartbeatView; agent: string }) {
  const { counts, last, lastAlert } = view;
  return (
    <>
      <ul className="scope-list" aria-label="Heartbeat outcomes" data-testid="heartbeat-counts">
        <li className="badge">{counts.ok} OK</li>
        <li className="badge">{counts.alert} alerts</li>
        <li className="badge">{counts.skipped} skipped</li>
        <li className="badge">{counts.failed} failed</li>
        <li className="badge">{counts.refused} refused</li>
      </ul>
      {last ? (
        <div className="muted small" data-testid="heartbeat-last">
          Last heartbeat {relativeTime(last.at)}: {OUTCOME_TEXT[last.outcome] ?? last.outcome}
          {last.error ? <ErrorSummary error={last.error} /> : null}
        </div>
      ) : (
        <p className="muted small">No heartbeat has run yet.</p>
      )}
      {lastAlert ? (
        <div className="notice" role="note" data-testid="heartbeat-alert">
          <strong>Last alert, {relativeTime(lastAlert.at)}:</strong> <span className="plain-text">{lastAlert.text}</span>{" "}
          <Link to={chatPath(agent, view.sessionKey)}>Open the heartbeat chat</Link>
        </div>
      ) : null}
    </>
  );
}
