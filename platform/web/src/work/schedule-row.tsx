import type { ScheduleFiring, ScheduleView } from "@workforce/protocol";
import { useState } from "react";
import { useServices } from "../services";
import { ConfirmGroup } from "../ui/confirm-group";
import { ErrorMessage } from "../ui/error-message";
import { useAction } from "../ui/use-action";
import { FiringList } from "./firing-list";
import { describeTiming, localTime } from "./schedule-text";

/** One schedule: its timing and next run, and (owners/admins) on/off, Run now, Delete; its firing history on demand. */
export function ScheduleRow({ agent, schedule, manages, onChanged, onDeleted }: { agent: string; schedule: ScheduleView; manages: boolean; onChanged: () => void; onDeleted: () => void }) {
  const { api } = useServices();
  const [confirming, setConfirming] = useState(false);
  const [history, setHistory] = useState<{ firings: ScheduleFiring[]; nextCursor: string | null }>();
  const { busy, error, act } = useAction();
  const loadHistory = () => act(async () => setHistory(await api.schedules.firings(agent, schedule.id)));
  const more = () => act(async () => {
    const page = await api.schedules.firings(agent, schedule.id, history?.nextCursor ?? undefined);
    setHistory({ firings: [...(history?.firings ?? []), ...page.firings], nextCursor: page.nextCursor });
  });
  const toggle = () => act(async () => {
    await api.schedules.update(agent, schedule.id, { enabled: !schedule.enabled });
    onChanged();
  });
  const runNow = () => act(async () => {
    await api.schedules.run(agent, schedule.id);
    onChanged();
    if (history) setHistory(await api.schedules.firings(agent, schedule.id));
  });
  const remove = () => act(async () => {
    await api.schedules.remove(agent, schedule.id);
    onDeleted();
  });

  return (
    <li className="row schedule" data-testid="schedule-row" data-schedule-name={schedule.name} data-enabled={schedule.enabled}>
      <div className="row-main">
        <span className="row-title">
          {schedule.name} {schedule.enabled ? null : <span className="badge">Off</span>}
        </span>
        <span className="muted small">
          {describeTiming(schedule)} · {schedule.sessionMode === "fixed" ? <>session <code>{schedule.sessionKey}</code></> : "a new session each run"}
          {schedule.catchUp === "run_once" ? " · catches up once" : ""}
        </span>
        <span className="muted small" data-testid="schedule-next">
          {schedule.nextFireAt ? <>Next: <time dateTime={schedule.nextFireAt}>{localTime(schedule.nextFireAt)}</time></> : "Not scheduled"}
          {schedule.createdBy ? <> · runs as {schedule.createdBy.email}</> : null}
        </span>
        <span className="small schedule-message">“{schedule.message}”</span>
      </div>
      <div className="row-actions">
        {manages ? (
          <>
            <label className="toggle small">
              <input type="checkbox" checked={schedule.enabled} disabled={busy} onChange={() => void toggle()} aria-label={`${schedule.name} on`} />
              On
            </label>
            <button type="button" className="button small" disabled={busy} onClick={() => void runNow()}>
              {/* The name is spoken, not shown: a visible label must be part of the accessible name. */}
              Run<span className="visually-hidden"> {schedule.name}</span> now
            </button>
            <button type="button" className="button ghost small" disabled={busy} onClick={() => setConfirming(true)} aria-label={`Delete ${schedule.name}`}>
              Delete
            </button>
          </>
        ) : null}
        <button type="button" className="button ghost small" aria-expanded={history !== undefined} onClick={() => (history ? setHistory(undefined) : void loadHistory())} aria-label={`History of ${schedule.name}`}>
          History
        </button>
      </div>
      {confirming ? (
        <ConfirmGroup label={`Delete ${schedule.name}?`} confirmLabel="Confirm delete" busy={busy} onConfirm={() => void remove()} onCancel={() => setConfirming(false)}>
          Delete <strong>{schedule.name}</strong> and its history? Its runs' sessions stay.
        </ConfirmGroup>
      ) : null}
      <ErrorMessage error={error} />
      {history ? (
        <div className="schedule-history" data-testid="schedule-history">
          <FiringList agent={agent} firings={history.firings} label={`Firings of ${schedule.name}`} canOpenSessions={manages} />
          {history.nextCursor ? (
            <button type="button" className="button ghost small" disabled={busy} onClick={() => void more()}>
              Older firings
            </button>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}
